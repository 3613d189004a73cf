"""Importer for the shot-chart season bundle: NBA.com shot charts + nba_api game logs.

Files: *Shots*.csv.zip (or .csv / .csv.gz; one row per field-goal attempt with its zone),
player_game_logs*.csv(.gz) (nba_api player game logs, regular season and playoffs),
team_game_logs*.csv(.gz) (nba_api team game logs). A season is put together so:

- schedule, final scores and team totals: the team game logs (two rows per game; the row
  whose MATCHUP reads "vs." is the home team);
- shots: the shot chart; a row repeating an earlier one exactly is kept when the player log's
  FG% counts it (two misses at the same second and spot) and dropped otherwise; action numbers
  follow the game clock;
  the defending team is the game's other team;
- per player and game: FGM/FGA/3PM/3PA counted from the shots; minutes (whole), points,
  rebounds, assists, steals, blocks, turnovers, plus-minus from the player logs;
  FTM = PTS − 2·FGM − 3PM; FTA = FTM / FT% when FT% > 0, = FTM when FT% is blank, and when FT%
  is 0 (FTM 0, FTA unknown) the team's FTA minus the rest of the team's, exact when one player
  of the team-game is in that case, else split evenly (estimated, counted);
- offensive/defensive rebounds and personal fouls per player are not in the bundle: the box
  scores list them in `playerStatisticsUnavailable` and phase 2 stores NULL;
- no DNP rows exist in the bundle: gamebooks list no inactive players.
Every derived value and every disagreement between the sources is counted in the report.
"""
from __future__ import annotations

import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import duckdb

from fullcourt.errors import InputError
from fullcourt.nba.calendar import season_label_sql
from fullcourt.nba.sources import nbacom
from fullcourt.nba.sources.nbacom import ImportReport, game_id_sql, int_sql

FORMAT = "nba-shotchart"
SHOT_COLUMNS = ("TEAM_ID", "PLAYER_ID", "PLAYER_NAME", "GAME_DATE", "GAME_ID", "HOME_TEAM", "AWAY_TEAM",
                "SHOT_MADE", "SHOT_TYPE", "BASIC_ZONE", "LOC_X", "LOC_Y", "SHOT_DISTANCE", "QUARTER",
                "MINS_LEFT", "SECS_LEFT")
PLAYER_COLUMNS = ("PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION", "GAME_DATE", "MATCHUP", "MIN", "PTS", "REB",
                  "AST", "STL", "BLK", "TOV", "FG_PCT", "FT_PCT", "PLUS_MINUS", "SEASON_TYPE")
TEAM_COLUMNS = ("Team_ID", "Game_ID", "GAME_DATE", "MATCHUP", "MIN", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA",
                "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PTS")
UNAVAILABLE = ("foulsPersonal", "reboundsDefensive", "reboundsOffensive")
TEAM_STATS = {"points": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM",
              "fta": "FTA", "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL",
              "blk": "BLK", "tov": "TOV", "pf": "PF"}


def import_bundle(con: duckdb.DuckDBPyConnection, folder: Path, landing: Path,
                  start: date | None, end: date | None) -> ImportReport:
    """Read the bundle in `folder`, write landing payloads for game dates in [start, end]
    (inclusive; None = the whole season). Raises InputError (writing nothing) on a missing
    file or column, or a season outside the calendar."""
    t0 = time.perf_counter()
    report = ImportReport(FORMAT, str(folder), str(landing), start, end, shot_detail=True)
    shots_file = nbacom.find_file(folder, ["*Shots*.csv.zip", "*shots*.csv.zip", "*Shots*.csv.gz", "*Shots*.csv",
                                           "*shots*.csv.gz", "*shots*.csv"], "shot chart", FORMAT)
    players_file = nbacom.find_file(folder, ["player_game_logs*.csv.gz", "player_game_logs*.csv"],
                                    "player game logs", FORMAT)
    teams_file = nbacom.find_file(folder, ["team_game_logs*.csv.gz", "team_game_logs*.csv"], "team game logs", FORMAT)
    with tempfile.TemporaryDirectory(prefix="fullcourt-import-") as tmp:
        csv = _unzipped(shots_file, Path(tmp))
        report.rows_read[shots_file.name] = nbacom.load_csv(con, csv, "src_shots", SHOT_COLUMNS, shots_file)
    report.rows_read[players_file.name] = nbacom.load_csv(con, players_file, "src_players", PLAYER_COLUMNS)
    report.rows_read[teams_file.name] = nbacom.load_csv(con, teams_file, "src_teams", TEAM_COLUMNS)
    nbacom.team_codes_table(con)
    report.dropped["duplicate player-log rows (exact)"] = nbacom.count_exact_duplicates(con, "src_players")
    _repeated_shots(con, report)
    report.dropped["duplicate team-log rows (exact)"] = nbacom.count_exact_duplicates(con, "src_teams")
    _games(con, report)
    nbacom.check_seasons(con, FORMAT)
    _shots(con, report)
    _players(con, report)
    nbacom.no_inactive(con)
    report.notes.append("no DNP rows in this bundle: gamebooks list no inactive players")
    report.notes.append("per-player offensive/defensive rebounds and personal fouls are not in this bundle "
                        "(stored NULL, listed in the box scores' playerStatisticsUnavailable)")
    nbacom.write_landing(con, landing, start, end, report, unavailable=UNAVAILABLE)
    return nbacom.finish(report, t0)


def _unzipped(path: Path, tmp: Path) -> Path:
    """The shot chart CSV: `path` itself, or its one CSV member (ignoring __MACOSX/) extracted."""
    if path.suffix != ".zip":
        return path
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if m.lower().endswith(".csv") and not m.startswith("__MACOSX/")
                       and not Path(m).name.startswith("._")]
            if len(members) != 1:
                raise InputError(f"{path}: expected one CSV inside the zip, found {len(members)}",
                                 remedy="use the bundle's original zip")
            target = tmp / Path(members[0]).name
            target.write_bytes(z.read(members[0]))
            return target
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not a readable zip file", remedy="use the bundle's original zip") from None


DUPLICATE_SHOTS = "duplicate shot rows (exact; the logs do not count them)"
REPEATED_SHOTS = "identical shot rows kept as separate shots (the player log's FG%, or the team log's FGA, counts them)"


def _repeated_shots(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """Rows of the shot chart that repeat an earlier row exactly. Two misses by one player at
    the same second and spot are possible, so the logs decide: the player log's FG% first
    (it matches the shots counted with the repeats and not without → keep; the reverse →
    drop); when it cannot tell (e.g. 0 for 3 either way), the team log's FGA. Undecided repeats
    are dropped. Both outcomes are counted."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE shot_rep AS
           WITH r AS (SELECT _row, PLAYER_ID, TEAM_ID, GAME_DATE, upper(trim(SHOT_MADE)) = 'TRUE' AS made,
                             row_number() OVER (PARTITION BY _key ORDER BY _row) AS k FROM src_shots),
           pg AS (SELECT PLAYER_ID, GAME_DATE, count(*) AS fga_all, count(*) FILTER (WHERE made) AS fgm_all,
                         count(*) FILTER (WHERE k = 1) AS fga_one, count(*) FILTER (WHERE k = 1 AND made) AS fgm_one
                  FROM r GROUP BY ALL HAVING count(*) FILTER (WHERE k > 1) > 0),
           by_log AS (
               SELECT pg.PLAYER_ID, pg.GAME_DATE,
                      abs(TRY_CAST(l.FG_PCT AS DOUBLE) - pg.fgm_all / pg.fga_all) <= 0.0006 AS with_all,
                      abs(TRY_CAST(l.FG_PCT AS DOUBLE) - pg.fgm_one / pg.fga_one) <= 0.0006 AS with_one
               FROM pg LEFT JOIN src_players l ON l.PLAYER_ID = pg.PLAYER_ID
                    AND TRY_CAST(l.GAME_DATE AS DATE) = TRY_STRPTIME(pg.GAME_DATE, '%m-%d-%Y')::DATE),
           tg AS (SELECT r.TEAM_ID, r.GAME_DATE, count(*) AS fga_all, count(*) FILTER (WHERE k = 1) AS fga_one
                  FROM r GROUP BY ALL HAVING count(*) FILTER (WHERE k > 1) > 0),
           by_team AS (
               SELECT tg.TEAM_ID, tg.GAME_DATE, TRY_CAST(t.FGA AS INTEGER) = tg.fga_all
                      AND TRY_CAST(t.FGA AS INTEGER) <> tg.fga_one AS keep
               FROM tg LEFT JOIN src_teams t ON trim(t.Team_ID) = trim(tg.TEAM_ID)
                    AND TRY_STRPTIME(t.GAME_DATE, '%b %d, %Y')::DATE = TRY_STRPTIME(tg.GAME_DATE, '%m-%d-%Y')::DATE)
           SELECT r._row,
                  CASE WHEN l.with_all AND NOT l.with_one THEN 'log keeps'
                       WHEN l.with_one AND NOT l.with_all THEN 'log drops'
                       WHEN coalesce(t.keep, false) THEN 'team keeps'
                       ELSE 'undecided' END AS verdict
           FROM r JOIN by_log l USING (PLAYER_ID, GAME_DATE)
           LEFT JOIN by_team t ON t.TEAM_ID = r.TEAM_ID AND t.GAME_DATE = r.GAME_DATE
           WHERE r.k > 1"""
    )
    verdicts = dict(con.execute("SELECT verdict, count(*) FROM shot_rep GROUP BY 1").fetchall())
    report.dropped[DUPLICATE_SHOTS] = verdicts.get("log drops", 0) + verdicts.get("undecided", 0)
    report.derived[REPEATED_SHOTS] = verdicts.get("log keeps", 0) + verdicts.get("team keeps", 0)
    con.execute("DELETE FROM src_shots WHERE _row IN (SELECT _row FROM shot_rep WHERE verdict NOT LIKE '% keeps')")


def _games(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """imp_games and imp_teams from the team game logs."""
    stats = ", ".join(f"{int_sql(f't.{src}')} AS {col}" for col, src in TEAM_STATS.items())
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE tl AS
            SELECT t._row, {game_id_sql('t.Game_ID')} AS game_id, TRY_STRPTIME(t.GAME_DATE, '%b %d, %Y')::DATE AS game_date,
                   c.tricode AS team_abbr, c.team_id, contains(t.MATCHUP, ' vs. ') AS is_home,
                   {int_sql('t.MIN')} * 60 AS seconds, {stats}
            FROM src_teams t LEFT JOIN imp_team_codes c ON c.code = upper(trim(t.Team_ID))"""
    )
    report.dropped["team-log rows with an unknown team"] = con.execute(
        "SELECT count(*) FROM tl WHERE team_abbr IS NULL").fetchone()[0]
    report.dropped["team-log rows with an unreadable GAME_DATE (want e.g. OCT 18, 2022)"] = con.execute(
        "SELECT count(*) FROM tl WHERE team_abbr IS NOT NULL AND game_date IS NULL").fetchone()[0]
    con.execute("DELETE FROM tl WHERE team_abbr IS NULL OR game_date IS NULL")
    kinds = dict(con.execute("SELECT substr(game_id, 1, 3), count(DISTINCT game_id) FROM tl GROUP BY 1").fetchall())
    report.excluded["non-regular-season games in the team logs"] = sum(v for k, v in kinds.items() if k != "002")
    report.dropped["games without exactly one home and one away team-log row"] = con.execute(
        """SELECT count(*) FROM (SELECT game_id FROM tl WHERE game_id LIKE '002%' GROUP BY 1
           HAVING count(*) FILTER (WHERE is_home) <> 1 OR count(*) FILTER (WHERE NOT is_home) <> 1)""").fetchone()[0]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE imp_games AS
            SELECT h.game_id, h.game_date, {season_label_sql('h.game_date')} AS season,
                   h.team_id AS home_team_id, h.team_abbr AS home_abbr, a.team_id AS away_team_id,
                   a.team_abbr AS away_abbr, h.points AS home_score, a.points AS away_score
            FROM tl h JOIN tl a ON a.game_id = h.game_id AND NOT a.is_home
            WHERE h.is_home AND h.game_id LIKE '002%' AND h.game_id IN (
                SELECT game_id FROM tl GROUP BY 1
                HAVING count(*) FILTER (WHERE is_home) = 1 AND count(*) FILTER (WHERE NOT is_home) = 1)"""
    )
    cols = ", ".join(TEAM_STATS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE imp_teams AS SELECT game_id, is_home, team_id, team_abbr, seconds, {cols} "
                "FROM tl WHERE game_id IN (SELECT game_id FROM imp_games)")
    report.dropped["team-log rows with unreadable stats"] = con.execute(
        "SELECT count(*) FROM imp_teams WHERE seconds IS NULL OR " + " OR ".join(f"{c} IS NULL" for c in TEAM_STATS)
    ).fetchone()[0]
    con.execute("DELETE FROM imp_teams WHERE seconds IS NULL OR " + " OR ".join(f"{c} IS NULL" for c in TEAM_STATS))


def _shots(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """imp_shots from the shot chart; checks against the schedule."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sh AS
            SELECT s._row, {game_id_sql('s.GAME_ID')} AS game_id, TRY_STRPTIME(s.GAME_DATE, '%m-%d-%Y')::DATE AS shot_date,
                   TRY_CAST(s.PLAYER_ID AS BIGINT) AS person_id, trim(s.PLAYER_NAME) AS name, c.tricode AS team_abbr,
                   {int_sql('s.QUARTER')} AS period, {int_sql('s.MINS_LEFT')} AS mins_left,
                   {int_sql('s.SECS_LEFT')} AS secs_left,
                   CASE WHEN s.SHOT_TYPE LIKE '3PT%' THEN '3PT' WHEN s.SHOT_TYPE LIKE '2PT%' THEN '2PT' END AS shot_type,
                   TRY_CAST(s.SHOT_DISTANCE AS DOUBLE) AS shot_distance, TRY_CAST(s.LOC_X AS DOUBLE) AS x,
                   TRY_CAST(s.LOC_Y AS DOUBLE) AS y, upper(trim(s.SHOT_MADE)) = 'TRUE' AS made,
                   nullif(trim(s.BASIC_ZONE), '') AS basic_zone
            FROM src_shots s LEFT JOIN imp_team_codes c ON c.code = upper(trim(s.TEAM_ID))"""
    )
    report.dropped["shots of games not in the team logs"] = con.execute(
        "SELECT count(*) FROM sh WHERE game_id NOT IN (SELECT game_id FROM imp_games)").fetchone()[0]
    report.dropped["shots with an unknown team, player, shot type or clock"] = con.execute(
        "SELECT count(*) FROM sh WHERE game_id IN (SELECT game_id FROM imp_games) AND (team_abbr IS NULL OR "
        "person_id IS NULL OR shot_type IS NULL OR period IS NULL OR mins_left IS NULL OR secs_left IS NULL)"
    ).fetchone()[0]
    con.execute("DELETE FROM sh WHERE game_id NOT IN (SELECT game_id FROM imp_games) OR team_abbr IS NULL OR "
                "person_id IS NULL OR shot_type IS NULL OR period IS NULL OR mins_left IS NULL OR secs_left IS NULL")
    report.disagreements["shot dates vs the team logs' game date (shots)"] = con.execute(
        "SELECT count(*) FROM sh JOIN imp_games g USING (game_id) WHERE sh.shot_date IS DISTINCT FROM g.game_date"
    ).fetchone()[0]
    report.disagreements["shots whose team is not in the game"] = con.execute(
        "SELECT count(*) FROM sh JOIN imp_games g USING (game_id) WHERE sh.team_abbr NOT IN (g.home_abbr, g.away_abbr)"
    ).fetchone()[0]
    report.disagreements["shot type vs zone (3PT in Mid-Range, 2PT above the break); zone from BASIC_ZONE"] = (
        con.execute("""SELECT count(*) FROM sh WHERE (shot_type = '3PT' AND basic_zone IN
                           ('Restricted Area', 'In The Paint (Non-RA)', 'Mid-Range'))
                        OR (shot_type = '2PT' AND basic_zone IN
                           ('Left Corner 3', 'Right Corner 3', 'Above the Break 3', 'Backcourt'))""").fetchone()[0])
    con.execute(
        """CREATE OR REPLACE TEMP TABLE imp_shots AS
           SELECT game_id,
                  row_number() OVER (PARTITION BY game_id ORDER BY period, mins_left DESC, secs_left DESC, _row)::INTEGER
                      AS action_number,
                  person_id, team_abbr, period, printf('PT%02dM%02d.00S', mins_left, secs_left) AS clock, shot_type,
                  shot_distance, x, y, made, basic_zone
           FROM sh"""
    )


def _players(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """imp_players: player logs + shot counts + derived free throws."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE pl AS
            SELECT p._row, TRY_CAST(p.PLAYER_ID AS BIGINT) AS person_id, trim(p.PLAYER_NAME) AS name,
                   c.tricode AS team_abbr, TRY_CAST(p.GAME_DATE AS DATE) AS d, p.SEASON_TYPE AS season_type,
                   {int_sql('p.MIN')} * 60 AS seconds, {int_sql('p.PTS')} AS points, {int_sql('p.REB')} AS reb,
                   {int_sql('p.AST')} AS ast, {int_sql('p.STL')} AS stl, {int_sql('p.BLK')} AS blk,
                   {int_sql('p.TOV')} AS tov, TRY_CAST(p.PLUS_MINUS AS DOUBLE) AS plus_minus,
                   TRY_CAST(p.FG_PCT AS DOUBLE) AS fg_pct, TRY_CAST(p.FT_PCT AS DOUBLE) AS ft_pct
            FROM src_players p LEFT JOIN imp_team_codes c ON c.code = upper(trim(p.TEAM_ABBREVIATION))"""
    )
    report.excluded["player-log rows of playoff / play-in / preseason games"] = con.execute(
        "SELECT count(*) FROM pl WHERE season_type IS DISTINCT FROM 'Regular Season'").fetchone()[0]
    report.excluded = {k: v for k, v in report.excluded.items() if v}
    con.execute("DELETE FROM pl WHERE season_type IS DISTINCT FROM 'Regular Season'")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE pl AS
           SELECT pl.*, g.game_id, pl.team_abbr = g.home_abbr AS is_home, c.team_id
           FROM pl LEFT JOIN imp_games g ON g.game_date = pl.d AND pl.team_abbr IN (g.home_abbr, g.away_abbr)
           LEFT JOIN imp_team_codes c ON c.code = pl.team_abbr"""
    )
    report.dropped["player-log rows matching no game of their team on their date"] = con.execute(
        "SELECT count(*) FROM pl WHERE game_id IS NULL").fetchone()[0]
    report.dropped["player-log rows with unreadable values"] = con.execute(
        "SELECT count(*) FROM pl WHERE game_id IS NOT NULL AND (person_id IS NULL OR seconds IS NULL OR points IS NULL "
        "OR reb IS NULL OR ast IS NULL OR stl IS NULL OR blk IS NULL OR tov IS NULL)").fetchone()[0]
    con.execute("DELETE FROM pl WHERE game_id IS NULL OR person_id IS NULL OR seconds IS NULL OR points IS NULL "
                "OR reb IS NULL OR ast IS NULL OR stl IS NULL OR blk IS NULL OR tov IS NULL")
    report.dropped["second player-log row for the same player and game"] = con.execute(
        "SELECT count(*) - count(DISTINCT (game_id, person_id)) FROM pl").fetchone()[0]
    con.execute("CREATE OR REPLACE TEMP TABLE pl AS SELECT * FROM pl "
                "QUALIFY row_number() OVER (PARTITION BY game_id, person_id ORDER BY _row) = 1")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE sc AS
           SELECT game_id, person_id, any_value(team_abbr) AS team_abbr, count(*)::INTEGER AS fga,
                  count(*) FILTER (WHERE made)::INTEGER AS fgm,
                  count(*) FILTER (WHERE shot_type = '3PT')::INTEGER AS fg3a,
                  count(*) FILTER (WHERE shot_type = '3PT' AND made)::INTEGER AS fg3m
           FROM imp_shots GROUP BY 1, 2"""
    )
    report.disagreements["shots by a player without a player-log row for the game (shots)"] = con.execute(
        "SELECT coalesce(sum(fga), 0) FROM sc ANTI JOIN pl USING (game_id, person_id)").fetchone()[0]
    con.execute(
        """CREATE OR REPLACE TEMP TABLE pj AS
           SELECT pl.*, coalesce(sc.fga, 0) AS fga, coalesce(sc.fgm, 0) AS fgm, coalesce(sc.fg3a, 0) AS fg3a,
                  coalesce(sc.fg3m, 0) AS fg3m, pl.points - 2 * coalesce(sc.fgm, 0) - coalesce(sc.fg3m, 0) AS ftm_raw
           FROM pl LEFT JOIN sc USING (game_id, person_id)"""
    )
    report.disagreements["points below what the shots imply (FTM would be negative; set to 0)"] = con.execute(
        "SELECT count(*) FROM pj WHERE ftm_raw < 0").fetchone()[0]
    report.disagreements["player-log FG% vs the shots' FGM/FGA (player-games)"] = con.execute(
        "SELECT count(*) FROM pj WHERE (fg_pct IS NULL) <> (fga = 0) OR (fga > 0 AND abs(fg_pct - fgm / fga) > 0.0006)"
    ).fetchone()[0]
    report.disagreements["free throws made but FT% blank (FTA taken as FTM)"] = con.execute(
        "SELECT count(*) FROM pj WHERE ft_pct IS NULL AND ftm_raw > 0").fetchone()[0]
    # FTA: from FT% where it determines it; else the team's remainder (see the module docstring)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE pf AS
           SELECT pj.*, greatest(ftm_raw, 0) AS ftm,
                  CASE WHEN ft_pct IS NULL THEN greatest(ftm_raw, 0)
                       WHEN ft_pct > 0 THEN round(greatest(ftm_raw, 0) / ft_pct)::INTEGER END AS fta_known
           FROM pj"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE pl_names AS SELECT person_id, name, d FROM pf")
    nbacom.unify_names(con, "pl_names", report)  # the player logs' names keep diacritics
    con.execute(
        """CREATE OR REPLACE TEMP TABLE imp_players AS
           WITH rem AS (
               SELECT pf.game_id, pf.team_abbr, t.fta - sum(pf.fta_known) AS remainder,
                      count(*) FILTER (WHERE pf.fta_known IS NULL) AS n_unknown
               FROM pf JOIN imp_teams t ON t.game_id = pf.game_id AND t.team_abbr = pf.team_abbr
               GROUP BY pf.game_id, pf.team_abbr, t.fta),
           unk AS (
               SELECT pf.game_id, pf.person_id, r.remainder, r.n_unknown,
                      row_number() OVER (PARTITION BY pf.game_id, pf.team_abbr ORDER BY pf.seconds DESC, pf.person_id) AS k
               FROM pf JOIN rem r USING (game_id, team_abbr) WHERE pf.fta_known IS NULL)
           SELECT pf.game_id, pf.is_home, pf.team_id, pf.team_abbr, pf.person_id, n.name, NULL::VARCHAR AS position,
                  NULL::BOOLEAN AS starter, pf.seconds, pf.points, pf.fgm, pf.fga, pf.fg3m, pf.fg3a, pf.ftm,
                  coalesce(pf.fta_known, greatest(1, (u.remainder // u.n_unknown)
                           + CASE WHEN u.k <= u.remainder % u.n_unknown THEN 1 ELSE 0 END))::INTEGER AS fta,
                  NULL::INTEGER AS oreb, NULL::INTEGER AS dreb, pf.reb, pf.ast, pf.stl, pf.blk, pf.tov,
                  NULL::INTEGER AS pf, pf.plus_minus,
                  CASE WHEN pf.fta_known IS NOT NULL THEN 'ft_pct' WHEN u.n_unknown = 1 THEN 'team_exact'
                       ELSE 'team_split' END AS fta_source
           FROM pf JOIN imp_names n USING (person_id) LEFT JOIN unk u USING (game_id, person_id)"""
    )
    rows = dict(con.execute("SELECT fta_source, count(*) FROM imp_players GROUP BY 1").fetchall())
    player_games = sum(rows.values())
    report.derived["FGM/FGA/3PM/3PA counted from the shots (player-games)"] = player_games
    report.derived["FTM = PTS - 2*FGM - 3PM (player-games)"] = player_games
    report.derived["FTA = FTM / FT% (= FTM when FT% is blank)"] = rows.get("ft_pct", 0)
    report.derived["FTA = team FTA minus the rest of the team (exact)"] = rows.get("team_exact", 0)
    report.derived["FTA estimated: team remainder split among several FT% = 0 players"] = rows.get("team_split", 0)
    report.derived["played rows with MIN 0 (under 30 s; not appearances)"] = con.execute(
        "SELECT count(*) FROM imp_players WHERE seconds = 0").fetchone()[0]
    report.derived["player names unified per PLAYER_ID (players)"] = len(report.renamed)
    # cross-checks cover the games the player source covers (a live scrape fetches the whole
    # season's team log but only the requested dates' players and shots)
    report.disagreements["games with player-log rows but no shots"] = con.execute(
        "SELECT count(DISTINCT game_id) FROM imp_players WHERE game_id NOT IN (SELECT game_id FROM imp_shots)"
    ).fetchone()[0]
    compared = {"FGA": "fga", "FTM": "ftm", "FTA": "fta", "points": "points", "rebounds": "reb"}
    sums = ", ".join(f"sum({c}) AS s_{c}" for c in compared.values())
    nbacom.count_into(
        con, f"(SELECT t.*, {', '.join('p.s_' + c for c in compared.values())} FROM imp_teams t JOIN "
             f"(SELECT game_id, team_abbr, {sums} FROM imp_players GROUP BY ALL) p USING (game_id, team_abbr))",
        [(report.disagreements, f"team-log {label} vs the sum of its players (team-games)", f"s_{c} IS DISTINCT FROM {c}")
         for label, c in compared.items()])
    report.disagreements["team-games in the team logs without player-log rows"] = con.execute(
        """SELECT count(*) FROM imp_teams t JOIN imp_games g USING (game_id)
           WHERE (t.game_id, t.team_abbr) NOT IN (SELECT (game_id, team_abbr) FROM imp_players)
             AND g.game_date BETWEEN (SELECT min(d) FROM pl) AND (SELECT max(d) FROM pl)"""
    ).fetchone()[0]
    con.execute("ALTER TABLE imp_players DROP COLUMN fta_source")

