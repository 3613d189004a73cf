"""Phase 2: parse landing payloads into nba_raw, set-based with DuckDB's JSON reader.

Each processor reads only the files of the dates it runs (one date never reads another's
files). All files of a run are read in one pass; every check is a SQL query over that pass.
A date with a bad payload fails with one line naming the file and the problem; its partition
stays as it was; the other dates go on.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Sequence

import duckdb

from fullcourt.engine.spec import ComputeContext, Computed, Dependency, ProcessorSpec, same_date
from fullcourt.errors import InputError
from fullcourt.nba.calendar import season_label_sql, seasons_overlapping
from fullcourt.nba.teams import TRICODES

GAME_DATES_SQL = (
    "SELECT DISTINCT game_date FROM nba_raw.nbac_schedule WHERE game_date IN (SELECT d FROM run_dates)"
)
LOOKUP_SQL = "regexp_replace(lower(strip_accents({0})), '[^a-z0-9]', '', 'g')"
FOLDER_DATE_SQL = r"TRY_CAST(regexp_extract(filename, '(\d{4}-\d{2}-\d{2})[/\\][^/\\]*$', 1) AS DATE)"
SOURCE_SQL = r"regexp_extract({0}, '((\d{{4}}-\d{{2}}-\d{{2}}|schedule)[/\\][^/\\]+)$', 1)"
"""The stored source_file: the payload's path inside the landing folder (date/file.json), so a
store does not depend on where the landing folder lives."""
MINUTES_OK_SQL = r"regexp_matches({0}, '^PT-?\d+M-?\d+(\.\d+)?S$')"
MINUTES_SQL = (
    r"(TRY_CAST(regexp_extract({0}, '^PT(-?\d+)M', 1) AS DOUBLE)"
    r" + TRY_CAST(regexp_extract({0}, 'M(-?[\d.]+)S$', 1) AS DOUBLE) / 60.0)"
)

STATS = (
    "STRUCT(minutes VARCHAR, points INTEGER, fieldGoalsMade INTEGER, fieldGoalsAttempted INTEGER, "
    "threePointersMade INTEGER, threePointersAttempted INTEGER, freeThrowsMade INTEGER, "
    "freeThrowsAttempted INTEGER, reboundsOffensive INTEGER, reboundsDefensive INTEGER, "
    "reboundsTotal INTEGER, assists INTEGER, steals INTEGER, blocks INTEGER, turnovers INTEGER, "
    "foulsPersonal INTEGER, plusMinusPoints DOUBLE)"
)
PLAYER = (
    f"STRUCT(personId BIGINT, name VARCHAR, firstName VARCHAR, familyName VARCHAR, position VARCHAR, "
    f"starter VARCHAR, statistics {STATS})"
)
BOX_TEAM = f"STRUCT(teamId BIGINT, teamTricode VARCHAR, score INTEGER, statistics {STATS}, players {PLAYER}[])"
BOX_COLUMNS = (
    "game",
    f"STRUCT(gameId VARCHAR, gameDate VARCHAR, gameStatus INTEGER, homeTeam {BOX_TEAM}, awayTeam {BOX_TEAM}, "
    "playerStatisticsUnavailable VARCHAR[])",
)
MAY_BE_UNAVAILABLE = ("reboundsOffensive", "reboundsDefensive", "foulsPersonal", "plusMinusPoints")
"""Player statistics a source may lack (the box score lists them in playerStatisticsUnavailable;
they are stored NULL). Every other statistic is required: the analytics read it."""
SCHED_TEAM = "STRUCT(teamId BIGINT, teamTricode VARCHAR, score INTEGER)"
SCHED_GAME = f"STRUCT(gameId VARCHAR, gameStatus INTEGER, homeTeam {SCHED_TEAM}, awayTeam {SCHED_TEAM})"
LEAGUE_COLUMNS = (
    "leagueSchedule",
    f"STRUCT(seasonYear VARCHAR, gameDates STRUCT(gameDate VARCHAR, games {SCHED_GAME}[])[])",
)
SCOREBOARD_COLUMNS = ("scoreboard", f"STRUCT(gameDate VARCHAR, games {SCHED_GAME}[])")
GAMEBOOK_COLUMNS = (
    "gamebook",
    "STRUCT(gameId VARCHAR, gameDate VARCHAR, inactivePlayers STRUCT(personId BIGINT, "
    "name VARCHAR, teamTricode VARCHAR, status VARCHAR, reason VARCHAR)[])",
)
SHOTS_COLUMNS = (
    "shotchart",
    "STRUCT(gameId VARCHAR, gameDate VARCHAR, shotDetail VARCHAR, shots STRUCT(actionNumber INTEGER, "
    "personId BIGINT, teamTricode VARCHAR, period INTEGER, clock VARCHAR, shotType VARCHAR, "
    "shotDistance DOUBLE, x DOUBLE, y DOUBLE, shotResult VARCHAR, basicZone VARCHAR)[])",
)
PROPS_COLUMNS = (
    "props",
    "STRUCT(gameDate VARCHAR, market VARCHAR, lines STRUCT(gameId VARCHAR, personId BIGINT, "
    "name VARCHAR, teamTricode VARCHAR, line DOUBLE, overPrice INTEGER, underPrice INTEGER)[])",
)
STAT_FIELDS = (
    ("points", "points"),
    ("fieldGoalsMade", "fgm"),
    ("fieldGoalsAttempted", "fga"),
    ("threePointersMade", "fg3m"),
    ("threePointersAttempted", "fg3a"),
    ("freeThrowsMade", "ftm"),
    ("freeThrowsAttempted", "fta"),
    ("reboundsOffensive", "oreb"),
    ("reboundsDefensive", "dreb"),
    ("reboundsTotal", "reb"),
    ("assists", "ast"),
    ("steals", "stl"),
    ("blocks", "blk"),
    ("turnovers", "tov"),
    ("foulsPersonal", "pf"),
)


def landing_of(ctx: ComputeContext) -> Path:
    return Path(ctx.params.get("landing", "landing"))


def date_files(landing: Path, dates: Sequence[date], pattern: str) -> list[Path]:
    """Files matching `pattern` in the date folders of `dates`, sorted."""
    out: list[Path] = []
    for d in sorted(dates):
        folder = landing / d.isoformat()
        if folder.is_dir():
            out.extend(sorted(folder.glob(pattern)))
    return out


def read_payloads(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], columns: tuple[str, str], table: str
) -> dict[date, list[str]]:
    """Read JSON `files` into temp table `table` (filename, folder_date, and the payload's
    top-level key `columns[0]` cast to the STRUCT type `columns[1]`).

    The texts are loaded in one pass and parsed set-based (json_valid + a lenient cast: a
    value of the wrong type becomes NULL and is caught by the callers' missing-field
    checks). Returns {folder date: [error line]} for files that are not UTF-8 or not JSON.
    """
    key, struct = columns
    errors: dict[date, list[str]] = defaultdict(list)
    names: list[str] = []
    texts: list[str] = []
    for f in files:
        try:
            texts.append(f.read_text(encoding="utf-8"))
            names.append(str(f))
        except UnicodeDecodeError:
            errors[_folder_date(f)].append(f"{f}: not UTF-8 text")
        except OSError as err:  # a folder, or a file this user cannot read: the date fails, named
            errors[_folder_date(f)].append(f"{f}: cannot read ({err.strerror or type(err).__name__})")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_txt AS "
        "SELECT unnest(?::VARCHAR[]) AS filename, unnest(?::VARCHAR[]) AS txt",
        [names, texts],
    )
    for (name,) in con.execute(f"SELECT filename FROM {table}_txt WHERE NOT json_valid(txt)").fetchall():
        errors[_folder_date(Path(name))].append(f"{name}: {_describe(Path(name))}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT filename, {FOLDER_DATE_SQL} AS folder_date,
               TRY_CAST(json_extract(txt, '$.{key}') AS {struct}) AS {key}
        FROM {table}_txt WHERE json_valid(txt)"""
    )
    con.execute(f"DROP TABLE {table}_txt")
    return errors


def _folder_date(path: Path) -> date:
    try:
        return date.fromisoformat(path.parent.name)
    except ValueError:
        return date.min


def _describe(path: Path) -> str:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        return f"malformed JSON (line {err.lineno}, column {err.colno}: {err.msg})"
    return "malformed JSON"


def collect_errors(con: duckdb.DuckDBPyConnection, checks_sql: str) -> dict[date, list[str]]:
    """Run a query returning (folder_date, filename, problem) and group its lines by date."""
    errors: dict[date, list[str]] = defaultdict(list)
    for d, f, problem in con.execute(checks_sql).fetchall():
        line = f"{f}: {problem}"
        if line not in errors[d]:
            errors[d].append(line)
    return errors


def merge(*maps: dict[date, list[str]]) -> dict[date, list[str]]:
    out: dict[date, list[str]] = defaultdict(list)
    for m in maps:
        for d, lines in m.items():
            out[d].extend(lines)
    return dict(out)


def known_teams_sql() -> str:
    return "[" + ",".join(f"'{t}'" for t in TRICODES) + "]"


def _date_check(alias: str, table: str = "pl") -> str:
    """Checks shared by every per-game payload: its id, its date and its schedule entry."""
    return f"""
        SELECT folder_date, filename, 'missing field {alias}' FROM {table} WHERE {alias} IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field {alias}.gameId' FROM {table}
            WHERE {alias} IS NOT NULL AND {alias}.gameId IS NULL
        UNION ALL SELECT folder_date, filename,
            'payload date ' || coalesce({alias}.gameDate, 'null') || ' is not the folder''s date ' || folder_date
            FROM {table} WHERE {alias} IS NOT NULL AND TRY_CAST({alias}.gameDate AS DATE) IS DISTINCT FROM folder_date
        UNION ALL SELECT folder_date, filename, 'game ' || {alias}.gameId || ' is not on the schedule of ' || folder_date
            FROM {table} pt WHERE {alias}.gameId IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM nba_raw.nbac_schedule s WHERE s.game_id = pt.{alias}.gameId AND s.game_date = pt.folder_date)
    """


def missing_games(
    con: duckdb.DuckDBPyConnection, dates: Sequence[date], kind: str, table: str, alias: str, landing: Path
) -> tuple[dict[date, list[str]], dict[date, list[str]]]:
    """Scheduled games without a `kind` payload: a date with none fails, a partial date warns."""
    rows = con.execute(
        f"""
        SELECT s.game_date, count(*) AS scheduled,
               count(*) FILTER (WHERE p.gid IS NULL) AS absent,
               list(s.game_id ORDER BY s.game_id) FILTER (WHERE p.gid IS NULL) AS absent_ids
        FROM nba_raw.nbac_schedule s
        LEFT JOIN (SELECT DISTINCT {alias}.gameId AS gid, folder_date FROM {table}) p
               ON p.gid = s.game_id AND p.folder_date = s.game_date
        WHERE s.game_date IN (SELECT unnest(?::DATE[]))
        GROUP BY 1
        """,
        [list(dates)],
    ).fetchall()
    errors: dict[date, list[str]] = {}
    warnings: dict[date, list[str]] = {}
    for d, scheduled, absent, ids in rows:
        if absent == scheduled:
            errors[d] = [
                f"no {kind} payloads in {landing / d.isoformat()} for its {scheduled} scheduled games; "
                f"re-scrape the date (fullcourt scrape --start-date {d} --end-date {d})"
            ]
        elif absent:
            warnings[d] = [f"{absent} of {scheduled} scheduled games have no {kind} payload: {', '.join(ids)}"]
    return errors, warnings


def schedule_file(landing: Path, label: str, question: str) -> Path:
    """The landing folder's league schedule of season `label`; InputError when it is missing:
    without it, nothing says `question` (e.g. "which games … should have")."""
    path = landing / "schedule" / f"{label}.json"
    if not path.exists():
        raise InputError(f"no league schedule {path}: cannot tell {question}",
                         remedy=f"scrape the season into {landing} (fullcourt scrape ... --landing {landing}), "
                                "or pass the right --landing")
    return path


def landing_gaps(landing: Path, start: date, end: date) -> dict[date, list[str]]:
    """Phase 1 coverage: scheduled games in [start, end] (inclusive, from the league schedule
    files) whose box score, gamebook or shot log payload is absent from the landing folder.
    InputError when a season's schedule file is missing or unreadable: without it nothing says
    which games to expect."""
    out: dict[date, list[str]] = {}
    for season in seasons_overlapping(start, end):
        path = schedule_file(landing, season.label, f"which games {start}..{end} should have")
        try:
            league = json.loads(path.read_text(encoding="utf-8"))["leagueSchedule"]["gameDates"]
            days = [(date.fromisoformat(day["gameDate"][:10]), [g["gameId"] for g in day.get("games") or []])
                    for day in league]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as err:
            raise InputError(f"league schedule {path} is unreadable ({type(err).__name__})",
                             remedy=f"re-scrape the season into {landing}") from None
        for d, games in days:
            if not start <= d <= end:
                continue
            folder = landing / d.isoformat()
            for gid in games:
                if not all((folder / f"{kind}_{gid}.json").exists() for kind in ("boxscore", "gamebook", "shots")):
                    out.setdefault(d, []).append(gid)
    return out


# --- schedule -------------------------------------------------------------------------------


def compute_schedule(ctx: ComputeContext) -> Computed:
    """nbac_schedule: the league schedule's games of each date, overlaid by the day's scoreboard.

    The schedule is the calendar every gap check compares against, so a run refreshes every
    game date of the seasons it touches (returned as `extra_dates`), not only its own dates:
    a date that never ran at all must still be on the schedule to be seen as missing.
    """
    landing = landing_of(ctx)
    con = ctx.con
    league_files = []
    for season in seasons_overlapping(min(ctx.dates), max(ctx.dates)):
        f = landing / "schedule" / f"{season.label}.json"
        if f.exists():
            league_files.append(f)
    league_errors = read_payloads(con, league_files, LEAGUE_COLUMNS, "pl_league")
    if league_errors:
        bad = [line for lines in league_errors.values() for line in lines]
        return Computed(stage=ctx.stage, date_errors={d: bad for d in ctx.dates})
    season_dates = [r[0] for r in con.execute(
        "SELECT DISTINCT TRY_CAST(unnest(leagueSchedule.gameDates).gameDate AS DATE) FROM pl_league"
    ).fetchall() if r[0] is not None]
    board_dates = sorted(set(ctx.dates) | set(season_dates))
    board_errors = read_payloads(con, date_files(landing, board_dates, "schedule.json"), SCOREBOARD_COLUMNS, "pl")
    checks = f"""
        SELECT folder_date, filename, 'missing field scoreboard' FROM pl WHERE scoreboard IS NULL
        UNION ALL SELECT folder_date, filename,
            'payload date ' || coalesce(scoreboard.gameDate, 'null') || ' is not the folder''s date ' || folder_date
            FROM pl WHERE scoreboard IS NOT NULL AND TRY_CAST(scoreboard.gameDate AS DATE) IS DISTINCT FROM folder_date
        UNION ALL SELECT folder_date, filename, 'unknown team ' || coalesce(t, 'null')
            FROM (SELECT folder_date, filename, unnest([g.homeTeam.teamTricode, g.awayTeam.teamTricode]) AS t
                  FROM (SELECT folder_date, filename, unnest(scoreboard.games) AS g FROM pl))
            WHERE t IS NULL OR NOT list_contains({known_teams_sql()}, t)
        UNION ALL SELECT folder_date, filename, 'missing field games[].gameId'
            FROM (SELECT folder_date, filename, unnest(scoreboard.games) AS g FROM pl) WHERE g.gameId IS NULL
    """
    errors = merge(board_errors, collect_errors(con, checks))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ctx.stage} AS
        WITH league AS (
            SELECT TRY_CAST(gd.gameDate AS DATE) AS game_date, ls.seasonYear AS season, g, filename
            FROM (SELECT leagueSchedule AS ls, filename, unnest(leagueSchedule.gameDates) AS gd FROM pl_league),
                 LATERAL (SELECT unnest(gd.games) AS g)
        ),
        board AS (
            SELECT folder_date AS game_date, unnest(scoreboard.games) AS g, filename FROM pl
        )
        SELECT coalesce(l.game_date, b.game_date) AS game_date,
               coalesce(l.g.gameId, b.g.gameId) AS game_id,
               coalesce(l.season, {season_label_sql('b.game_date')}) AS season,
               coalesce(b.g.homeTeam.teamId, l.g.homeTeam.teamId) AS home_team_id,
               coalesce(b.g.homeTeam.teamTricode, l.g.homeTeam.teamTricode) AS home_team_abbr,
               coalesce(b.g.awayTeam.teamId, l.g.awayTeam.teamId) AS away_team_id,
               coalesce(b.g.awayTeam.teamTricode, l.g.awayTeam.teamTricode) AS away_team_abbr,
               coalesce(b.g.gameStatus, l.g.gameStatus, 1) AS game_status,
               b.g.homeTeam.score AS home_score,
               b.g.awayTeam.score AS away_score,
               {SOURCE_SQL.format('coalesce(b.filename, l.filename)')} AS source_file
        FROM league l
        FULL OUTER JOIN board b ON b.g.gameId = l.g.gameId AND b.game_date = l.game_date
        """
    )
    with_games = {r[0] for r in con.execute(f"SELECT DISTINCT game_date FROM {ctx.stage}").fetchall()}
    no_work = {d for d in ctx.dates if d not in with_games and d not in errors}
    extra = with_games - set(ctx.dates) - set(errors)
    con.execute("DROP TABLE IF EXISTS pl_league")
    own = {d: lines for d, lines in errors.items() if d in set(ctx.dates)}
    return Computed(stage=ctx.stage, date_errors=own, no_work=no_work, extra_dates=extra)


# --- box scores -----------------------------------------------------------------------------


def _stat_cols(prefix: str) -> str:
    return ", ".join(f"{prefix}.{src} AS {dst}" for src, dst in STAT_FIELDS)


def _stat_null_checks() -> str:
    """Checks that every box-score statistic is present and numeric, for players and teams."""
    lines = []
    for src, _ in STAT_FIELDS:
        lines.append(
            f"UNION ALL SELECT folder_date, filename, 'missing or non-numeric statistics.{src} for personId ' "
            f"|| p.personId FROM bx_players WHERE p.statistics IS NOT NULL AND p.statistics.{src} IS NULL "
            f"AND NOT list_contains(unavailable, '{src}')"
        )
        lines.append(
            f"UNION ALL SELECT folder_date, filename, 'missing or non-numeric team statistics.{src}' "
            f"FROM bx_sides WHERE t.statistics IS NOT NULL AND t.statistics.{src} IS NULL"
        )
    return "\n        ".join(lines)


def _read_boxscores(ctx: ComputeContext) -> tuple[dict[date, list[str]], dict[date, list[str]]]:
    """Read and check the run's box scores into temp tables bx (payloads), bx_sides, bx_players.

    The player and team box-score processors read the same files: when both run on the same
    connection for the same dates and files, the second reuses the first's parse.
    """
    con = ctx.con
    files = date_files(landing_of(ctx), ctx.dates, "boxscore_*.json")
    stamp = (tuple(ctx.dates), tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    # one entry per connection (the parse's temp tables live on it), replaced whole: processors
    # running in parallel share `params` but not a connection
    caches = ctx.params.setdefault("_boxscore_cache", {})
    cache = caches.get(id(con))
    if cache and cache["con"] is con and cache["stamp"] == stamp:
        return cache["errors"], cache["warnings"]
    read_errors = read_payloads(con, files, BOX_COLUMNS, "bx")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE bx_sides AS
        SELECT folder_date, filename, game.gameId AS game_id, true AS is_home, game.homeTeam AS t,
               coalesce(game.playerStatisticsUnavailable, []) AS unavailable FROM bx
        UNION ALL
        SELECT folder_date, filename, game.gameId, false, game.awayTeam,
               coalesce(game.playerStatisticsUnavailable, []) FROM bx
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE bx_players AS
        SELECT folder_date, filename, game_id, is_home, t.teamId AS team_id, t.teamTricode AS team_abbr,
               unavailable, unnest(t.players) AS p
        FROM bx_sides WHERE t IS NOT NULL
        """
    )
    neg = " OR ".join(f"p.statistics.{src} < 0" for src, _ in STAT_FIELDS)
    checks = f"""
        {_date_check('game', 'bx')}
        UNION ALL SELECT folder_date, filename, 'missing field ' || CASE WHEN is_home THEN 'homeTeam' ELSE 'awayTeam' END
            FROM bx_sides WHERE game_id IS NOT NULL AND t IS NULL
        UNION ALL SELECT folder_date, filename, 'unknown team ' || coalesce(t.teamTricode, 'null')
            FROM bx_sides WHERE t IS NOT NULL AND (t.teamTricode IS NULL OR NOT list_contains({known_teams_sql()}, t.teamTricode))
        UNION ALL SELECT folder_date, filename, 'missing field ' || CASE WHEN is_home THEN 'homeTeam' ELSE 'awayTeam' END || '.players'
            FROM bx_sides WHERE t IS NOT NULL AND t.players IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field ' || CASE WHEN is_home THEN 'homeTeam' ELSE 'awayTeam' END || '.statistics'
            FROM bx_sides WHERE t IS NOT NULL AND t.statistics IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field players[].personId' FROM bx_players WHERE p.personId IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field players[].name (personId ' || p.personId || ')'
            FROM bx_players WHERE p.personId IS NOT NULL AND p.name IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field players[].statistics (personId ' || p.personId || ')'
            FROM bx_players WHERE p.personId IS NOT NULL AND p.statistics IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field players[].statistics.minutes (personId ' || p.personId || ')'
            FROM bx_players WHERE p.statistics IS NOT NULL AND p.statistics.minutes IS NULL
        UNION ALL SELECT folder_date, filename, 'bad minutes ' || p.statistics.minutes || ' for personId ' || p.personId
            FROM bx_players WHERE p.statistics.minutes IS NOT NULL AND NOT {MINUTES_OK_SQL.format('p.statistics.minutes')}
        UNION ALL SELECT folder_date, filename, 'negative minutes ' || p.statistics.minutes || ' for personId ' || p.personId
            FROM bx_players WHERE {MINUTES_OK_SQL.format('p.statistics.minutes')} AND {MINUTES_SQL.format('p.statistics.minutes')} < 0
        {_stat_null_checks()}
        UNION ALL SELECT folder_date, filename, 'negative statistic for personId ' || p.personId
            FROM bx_players WHERE p.statistics IS NOT NULL AND ({neg})
        UNION ALL SELECT folder_date, filename, 'player ' || p.personId || ' listed ' || count(*) || ' times in game ' || game_id
            FROM bx_players WHERE p.personId IS NOT NULL GROUP BY folder_date, filename, game_id, p.personId HAVING count(*) > 1
        UNION ALL SELECT DISTINCT folder_date, filename, 'statistic ' || u || ' cannot be unavailable (allowed: '
            || array_to_string({list(MAY_BE_UNAVAILABLE)}, ', ') || ')'
            FROM (SELECT folder_date, filename, unnest(unavailable) AS u FROM bx_sides)
            WHERE NOT list_contains({list(MAY_BE_UNAVAILABLE)}, u)
    """
    errors = merge(read_errors, collect_errors(con, checks))
    missing_errors, warnings = missing_games(con, ctx.dates, "box score", "bx", "game", landing_of(ctx))
    errors = merge(errors, missing_errors)
    caches[id(con)] = {"con": con, "stamp": stamp, "errors": errors, "warnings": warnings}
    return errors, warnings


def compute_player_boxscore(ctx: ComputeContext) -> Computed:
    errors, warnings = _read_boxscores(ctx)
    ctx.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ctx.stage} AS
        SELECT folder_date AS game_date, game_id, team_id, team_abbr, is_home,
               p.personId AS person_id, p.name AS player_name, {LOOKUP_SQL.format('p.name')} AS player_lookup,
               p.position AS position, p.starter = '1' AS starter,
               round({MINUTES_SQL.format('p.statistics.minutes')}, 4) AS minutes, {_stat_cols('p.statistics')},
               p.statistics.plusMinusPoints AS plus_minus, {SOURCE_SQL.format('filename')} AS source_file
        FROM bx_players
        """
    )
    return Computed(stage=ctx.stage, date_errors=errors, warnings=warnings)


def compute_team_boxscore(ctx: ComputeContext) -> Computed:
    errors, warnings = _read_boxscores(ctx)
    ctx.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ctx.stage} AS
        SELECT folder_date AS game_date, game_id, t.teamId AS team_id, t.teamTricode AS team_abbr, is_home,
               round({MINUTES_SQL.format('t.statistics.minutes')}, 4) AS minutes, {_stat_cols('t.statistics')},
               {SOURCE_SQL.format('filename')} AS source_file
        FROM bx_sides WHERE t IS NOT NULL
        """
    )
    return Computed(stage=ctx.stage, date_errors=errors, warnings=warnings)


# --- gamebook, shots, props ------------------------------------------------------------------


def _per_game_list(
    ctx: ComputeContext,
    pattern: str,
    columns: tuple[str, str],
    items: str,
    kind: str,
    checks: str,
    select: str,
) -> Computed:
    """The flow shared by per-game payloads whose rows are one list (gamebook, shot log).

    Reads the run's `pattern` files, unnests `{key}.{items}` as `x` into temp table `rows`
    (with folder_date, filename, game_id), runs the common checks plus `checks` (SQL over
    `rows` returning folder_date, filename, problem), finds scheduled games without a
    payload, and stages `select` (a SELECT list over `rows`).
    """
    con = ctx.con
    key = columns[0]
    read_errors = read_payloads(con, date_files(landing_of(ctx), ctx.dates, pattern), columns, "pl")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rows AS SELECT folder_date, filename, {key}.gameId AS game_id, "
        f"unnest({key}.{items}) AS x FROM pl"
    )
    errors = merge(read_errors, collect_errors(con, f"{_date_check(key)} UNION ALL {checks}"))
    missing_errors, warnings = missing_games(con, ctx.dates, kind, "pl", key, landing_of(ctx))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ctx.stage} AS SELECT {select} FROM rows")
    con.execute("DROP TABLE rows")
    return Computed(stage=ctx.stage, date_errors=merge(errors, missing_errors), warnings=warnings)


def compute_gamebook(ctx: ComputeContext) -> Computed:
    checks = f"""
        SELECT folder_date, filename, 'missing field inactivePlayers[].personId' FROM rows WHERE x.personId IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field inactivePlayers[].name (personId ' || x.personId || ')'
            FROM rows WHERE x.personId IS NOT NULL AND x.name IS NULL
        UNION ALL SELECT folder_date, filename, 'unknown team ' || coalesce(x.teamTricode, 'null')
            FROM rows WHERE x.teamTricode IS NULL OR NOT list_contains({known_teams_sql()}, x.teamTricode)
        UNION ALL SELECT folder_date, filename, 'player ' || x.personId || ' listed ' || count(*) || ' times in game ' || game_id
            FROM rows WHERE x.personId IS NOT NULL GROUP BY folder_date, filename, game_id, x.personId HAVING count(*) > 1
    """
    select = f"""folder_date AS game_date, game_id, x.personId AS person_id, x.name AS player_name,
               {LOOKUP_SQL.format('x.name')} AS player_lookup, x.teamTricode AS team_abbr,
               coalesce(x.status, 'DNP') AS status, x.reason AS reason, {SOURCE_SQL.format('filename')} AS source_file"""
    return _per_game_list(ctx, "gamebook_*.json", GAMEBOOK_COLUMNS, "inactivePlayers", "gamebook", checks, select)


ZONE_SQL = """CASE WHEN {0}.basicZone IN ('Restricted Area', 'In The Paint (Non-RA)') THEN 'paint'
                    WHEN {0}.basicZone = 'Mid-Range' THEN 'mid_range'
                    WHEN {0}.basicZone IN ('Left Corner 3', 'Right Corner 3', 'Above the Break 3', 'Backcourt') THEN 'three'
                    WHEN {0}.shotType = '3PT' THEN 'three'
                    WHEN {0}.shotDistance <= 8 THEN 'paint'
                    ELSE 'mid_range' END"""
"""fullcourt's zone of a shot: NBA.com's basicZone when the source has it (Restricted Area and
In The Paint (Non-RA) → paint, Mid-Range → mid_range, corner / above-the-break threes and
backcourt heaves → three), else 3PT → three, within 8 ft → paint, else mid_range."""


def compute_shots(ctx: ComputeContext) -> Computed:
    """nbac_shots: one row per field-goal attempt; a game whose source has no shot-level data
    (`"shotDetail": "none"`) is one row with shot_detail 'none' and no shot fields, so the game
    counts as covered and zone features know to use two zones (docs/landing.md)."""
    checks = f"""
        SELECT folder_date, filename, 'missing field shots[].personId' FROM rows WHERE x.personId IS NULL
        UNION ALL SELECT folder_date, filename, 'bad shotType ' || coalesce(x.shotType, 'null')
            FROM rows WHERE x.shotType IS NULL OR x.shotType NOT IN ('2PT', '3PT')
        UNION ALL SELECT folder_date, filename, 'bad shotResult ' || coalesce(x.shotResult, 'null')
            FROM rows WHERE x.shotResult IS NULL OR x.shotResult NOT IN ('Made', 'Missed')
        UNION ALL SELECT folder_date, filename, 'unknown team ' || coalesce(x.teamTricode, 'null')
            FROM rows WHERE x.teamTricode IS NULL OR NOT list_contains({known_teams_sql()}, x.teamTricode)
        UNION ALL SELECT folder_date, filename, 'negative shotDistance for personId ' || x.personId
            FROM rows WHERE x.shotDistance < 0
        UNION ALL SELECT folder_date, filename, 'bad shotDetail ' || shotchart.shotDetail || ' (use shots or none)'
            FROM pl WHERE shotchart.shotDetail NOT IN ('shots', 'none')
        UNION ALL SELECT folder_date, filename, 'shotDetail none but ' || len(shotchart.shots) || ' shots listed'
            FROM pl WHERE shotchart.shotDetail = 'none' AND len(shotchart.shots) > 0
    """
    select = f"""folder_date AS game_date, game_id, x.actionNumber AS action_number, x.personId AS person_id,
               x.teamTricode AS team_abbr, x.period AS period, x.clock AS clock, x.shotType AS shot_type,
               x.shotDistance AS shot_distance, x.x AS x, x.y AS y, x.shotResult = 'Made' AS made,
               x.basicZone AS basic_zone, {ZONE_SQL.format('x')} AS zone, 'shots' AS shot_detail,
               {SOURCE_SQL.format('filename')} AS source_file"""
    out = _per_game_list(ctx, "shots_*.json", SHOTS_COLUMNS, "shots", "shot log", checks, select)
    ctx.con.execute(
        f"""INSERT INTO {ctx.stage} BY NAME
            SELECT folder_date AS game_date, shotchart.gameId AS game_id, 'none' AS shot_detail,
                   {SOURCE_SQL.format('filename')} AS source_file
            FROM pl WHERE shotchart.shotDetail = 'none'"""
    )
    return out


def compute_props(ctx: ComputeContext) -> Computed:
    """odds_player_props: points lines. A date without props.json keeps the lines stored for it
    (none, or those of `fullcourt import --format lines-csv`): reloading a date's box scores must
    not erase imported lines."""
    con = ctx.con
    files = date_files(landing_of(ctx), ctx.dates, "props.json")
    read_errors = read_payloads(con, files, PROPS_COLUMNS, "pl")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pr AS SELECT folder_date, filename, props.market AS market, "
        "unnest(props.lines) AS l FROM pl"
    )
    checks = """
        SELECT folder_date, filename, 'missing field props' FROM pl WHERE props IS NULL
        UNION ALL SELECT folder_date, filename,
            'payload date ' || coalesce(props.gameDate, 'null') || ' is not the folder''s date ' || folder_date
            FROM pl WHERE props IS NOT NULL AND TRY_CAST(props.gameDate AS DATE) IS DISTINCT FROM folder_date
        UNION ALL SELECT folder_date, filename, 'missing field lines[].name' FROM pr WHERE l.name IS NULL
        UNION ALL SELECT folder_date, filename, 'missing field lines[].line for ' || l.name FROM pr
            WHERE l.name IS NOT NULL AND l.line IS NULL
    """
    errors = merge(read_errors, collect_errors(con, checks))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ctx.stage} AS
        SELECT folder_date AS game_date, l.gameId AS game_id, l.personId AS person_id,
               {LOOKUP_SQL.format('l.name')} AS player_lookup, l.name AS player_name, l.teamTricode AS team_abbr,
               coalesce(market, 'player_points') AS market, l.line AS line, l.overPrice AS over_price,
               l.underPrice AS under_price, {SOURCE_SQL.format('filename')} AS source_file
        FROM pr
        UNION ALL BY NAME
        SELECT * EXCLUDE (run_id, processed_at) FROM nba_raw.odds_player_props
        WHERE game_date IN (SELECT unnest(?::DATE[]))
        """,
        [sorted(set(ctx.dates) - {_folder_date(f) for f in files})],
    )
    return Computed(stage=ctx.stage, date_errors=errors)


def specs() -> list[ProcessorSpec]:
    """The phase 2 processors (seed names), each parsing one kind of landing payload."""
    return [
        ProcessorSpec(
            name="NbacScheduleProcessor", phase=2, output_table="nba_raw.nbac_schedule", date_column="game_date",
            entity_key=("game_id",), compute=compute_schedule, aliases=("schedule",),
            description="league schedule + the day's scoreboard",
        ),
        ProcessorSpec(
            name="NbacPlayerBoxscoreProcessor", phase=2, label_column="player_lookup", complete_on="game_id", output_table="nba_raw.nbac_player_boxscore",
            date_column="game_date", entity_key=("game_id", "person_id"), compute=compute_player_boxscore,
            work_dates_sql=GAME_DATES_SQL, aliases=("player_boxscore",),
            dependencies=(_sched(),), description="players' box-score lines",
        ),
        ProcessorSpec(
            name="NbacTeamBoxscoreProcessor", phase=2, label_column="team_abbr", complete_on="game_id", output_table="nba_raw.nbac_team_boxscore",
            date_column="game_date", entity_key=("game_id", "team_abbr"), compute=compute_team_boxscore,
            work_dates_sql=GAME_DATES_SQL, aliases=("team_boxscore",),
            dependencies=(_sched(),), description="team totals of each box score",
        ),
        ProcessorSpec(
            name="NbacGamebookProcessor", phase=2, label_column="player_lookup", output_table="nba_raw.nbac_gamebook", date_column="game_date",
            entity_key=("game_id", "person_id"), compute=compute_gamebook, work_dates_sql=GAME_DATES_SQL,
            aliases=("gamebook",), dependencies=(_sched(),), description="players who did not play, with reason",
        ),
        ProcessorSpec(
            name="NbacShotsProcessor", phase=2, complete_on="game_id", output_table="nba_raw.nbac_shots", date_column="game_date",
            entity_key=("game_id", "action_number"), compute=compute_shots, work_dates_sql=GAME_DATES_SQL,
            aliases=("shots",), dependencies=(_sched(),), description="field-goal attempts with zone",
        ),
        ProcessorSpec(
            name="OddsPlayerPropsProcessor", phase=2, label_column="player_lookup", output_table="nba_raw.odds_player_props",
            date_column="game_date", entity_key=("player_lookup",), compute=compute_props,
            work_dates_sql=GAME_DATES_SQL, aliases=("props",), dependencies=(_sched(),),
            description="points lines",
        ),
    ]


def _sched() -> Dependency:
    return Dependency("nba_raw.nbac_schedule", same_date())
