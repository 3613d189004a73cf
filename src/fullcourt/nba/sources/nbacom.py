"""Importing real NBA.com-format bundles: the shared core.

A bundle reader (nba_stats_boxscores, nba_shotchart) loads its files into an in-memory DuckDB
connection and normalises them, set-based, into these temp tables:

- imp_games(game_id, game_date, season, home_team_id, home_abbr, away_team_id, away_abbr,
  home_score, away_score): the regular-season games of the bundle (every date, so that the
  league schedule also lists dates held back from the import);
- imp_players(game_id, is_home, team_id, team_abbr, person_id, name, position, starter,
  seconds, points, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, reb, ast, stl, blk, tov, pf,
  plus_minus): the box-score lines of players who played;
- imp_teams(game_id, is_home, team_id, team_abbr, seconds, points … pf): team totals;
- imp_inactive(game_id, person_id, name, team_abbr, status, reason): did-not-play rows;
- imp_shots(game_id, action_number, person_id, team_abbr, period, clock, shot_type,
  shot_distance, x, y, made, basic_zone): field-goal attempts (empty without shot data).

`write_landing` then writes the same landing payloads the scrapers write (docs/landing.md) for
the games inside the requested dates, and the reader's counts make the ImportReport.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Sequence

import duckdb

from fullcourt.errors import InputError
from fullcourt.nba.calendar import SEASONS, season_of
from fullcourt.nba.sources.synthetic import canonical_json
from fullcourt.nba.teams import ALIASES, TEAMS

STAT_KEYS = (
    ("points", "points"), ("fgm", "fieldGoalsMade"), ("fga", "fieldGoalsAttempted"),
    ("fg3m", "threePointersMade"), ("fg3a", "threePointersAttempted"), ("ftm", "freeThrowsMade"),
    ("fta", "freeThrowsAttempted"), ("oreb", "reboundsOffensive"), ("dreb", "reboundsDefensive"),
    ("reb", "reboundsTotal"), ("ast", "assists"), ("stl", "steals"), ("blk", "blocks"),
    ("tov", "turnovers"), ("pf", "foulsPersonal"),
)
"""(column in imp_players / imp_teams, key in the box-score payload's statistics)."""
STAT_COLUMNS = tuple(c for c, _ in STAT_KEYS)

DNP_STATUSES = ("DNP", "DND", "NWT", "INACTIVE")
_SMALL_WORDS = {"and", "of", "to", "the", "for", "with", "in", "on"}


@dataclass
class ImportReport:
    """What an import read, wrote, dropped and derived, and where its sources disagreed.

    `dropped`, `derived` and `disagreements` map a short reason to a count; `notes` hold
    one-line facts a user must know (e.g. "no shot-level data: zones degrade to two").
    """

    format: str
    path: str
    landing: str
    start: date | None = None
    end: date | None = None
    import_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    rows_read: dict[str, int] = field(default_factory=dict)
    per_date: dict[date, dict[str, int]] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    derived: dict[str, int] = field(default_factory=dict)
    disagreements: dict[str, int] = field(default_factory=dict)
    dnp_reasons: dict[str, int] = field(default_factory=dict)
    renamed: list[dict[str, Any]] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files_written: int = 0
    shot_detail: bool = True
    seconds: float = 0.0
    db: str = ""
    """The store the import is recorded in (the next backfills' --db)."""

    @property
    def games(self) -> int:
        return sum(v["games"] for v in self.per_date.values())

    @property
    def player_games(self) -> int:
        return sum(v["player_games"] for v in self.per_date.values())

    @property
    def dates(self) -> list[date]:
        return sorted(self.per_date)

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "format": self.format,
            "path": self.path,
            "landing": self.landing,
            "db": self.db,
            "start_date": self.start.isoformat() if self.start else None,
            "end_date": self.end.isoformat() if self.end else None,
            "dates": len(self.per_date),
            "games": self.games,
            "player_games": self.player_games,
            "files_written": self.files_written,
            "shot_detail": self.shot_detail,
            "rows_read": self.rows_read,
            "dropped": self.dropped,
            "derived": self.derived,
            "disagreements": self.disagreements,
            "dnp_reasons": self.dnp_reasons,
            "renamed_players": self.renamed,
            "excluded": self.excluded,
            "notes": self.notes,
            "per_date": {d.isoformat(): v for d, v in sorted(self.per_date.items())},
            "seconds": round(self.seconds, 3),
        }


# --- identities --------------------------------------------------------------------------------


def team_codes_table(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table imp_team_codes(code, tricode, team_id): every NBA team id, current tricode,
    historical/alternate code (BRK, CHO, PHO, NOH, ...) and full name, upper-cased, mapped to
    the current tricode."""
    codes: list[tuple[str, str]] = []
    for tri, (team_id, city, name) in TEAMS.items():
        codes += [(tri, tri), (str(team_id), tri), (f"{city} {name}".upper(), tri), (name.upper(), tri)]
    codes += [(alias, tri) for alias, tri in ALIASES.items()]
    codes.append(("LOS ANGELES CLIPPERS", "LAC"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE imp_team_codes AS SELECT c.code, c.tricode, t.team_id FROM "
        "(SELECT unnest(?::VARCHAR[]) AS code, unnest(?::VARCHAR[]) AS tricode) c JOIN "
        "(SELECT unnest(?::VARCHAR[]) AS tricode, unnest(?::BIGINT[]) AS team_id) t USING (tricode)",
        [[c for c, _ in codes], [t for _, t in codes], list(TEAMS), [v[0] for v in TEAMS.values()]],
    )


def game_id_sql(column: str) -> str:
    """SQL: an NBA game id as the ten-character text ("22100314" → "0022100314")."""
    return f"lpad(trim({column}), 10, '0')"


def seconds_sql(column: str) -> str:
    """SQL: played time in seconds from "M:SS", "MM:SS", "M.ffff:SS" or whole minutes "M"; NULL if
    blank or unparsable."""
    c = f"trim({column})"
    return (
        f"CASE WHEN regexp_matches({c}, '^\\d+(\\.\\d+)?:\\d{{1,2}}$') THEN "
        f"CAST(floor(CAST(split_part({c}, ':', 1) AS DOUBLE)) AS INTEGER) * 60 + CAST(split_part({c}, ':', 2) AS INTEGER) "
        f"WHEN regexp_matches({c}, '^\\d+(\\.0+)?$') THEN CAST(CAST({c} AS DOUBLE) AS INTEGER) * 60 END"
    )


def int_sql(column: str) -> str:
    """SQL: a count read as text ("7", "7.0") → INTEGER; NULL when blank or not a whole number."""
    return f"CASE WHEN TRY_CAST({column} AS DOUBLE) = floor(TRY_CAST({column} AS DOUBLE)) THEN TRY_CAST({column} AS DOUBLE)::INTEGER END"


def normalise_dnp(comment: str) -> tuple[str, str] | None:
    """(status, reason) of a DNP comment in any of its spellings, None when unrecognised.

    "DNP - Coach's Decision" → ("DNP", "DNP - Coach's Decision");
    "NWT_RETURN_TO_COMPETITION_RECONDITIONING" → ("NWT", "NWT - Return to Competition Reconditioning");
    "dnd - injury/illness" → ("DND", "DND - Injury/Illness").
    """
    text = (comment or "").strip()
    m = re.match(r"^(DNP|DND|NWT|INACTIVE)(?:\s*[-_:]\s*|\s+|$)(.*)$", text, re.IGNORECASE)
    if not m:
        return None
    status, rest = m.group(1).upper(), m.group(2).strip()
    if not rest:
        return status, status
    if rest.isupper() or rest.islower():
        words = rest.replace("_", " ").split()
        rest = " ".join(
            w.lower() if i and w.lower() in _SMALL_WORDS else "/".join(p[:1].upper() + p[1:].lower() for p in w.split("/"))
            for i, w in enumerate(words)
        )
    return status, f"{status} - {rest}"


def dnp_table(con: duckdb.DuckDBPyConnection, comments: Iterable[str]) -> list[str]:
    """Temp table imp_dnp(comment, status, reason) for the distinct `comments`; returns the
    unrecognised comments (kept as status DNP with the comment as the reason)."""
    rows = []
    unknown: list[str] = []
    for c in sorted(set(comments)):
        norm = normalise_dnp(c)
        if norm is None:
            unknown.append(c)
            norm = ("DNP", c.strip())
        rows.append((c, *norm))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE imp_dnp AS SELECT unnest(?::VARCHAR[]) AS comment, "
        "unnest(?::VARCHAR[]) AS status, unnest(?::VARCHAR[]) AS reason",
        [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
    )
    return unknown


def unify_names(con: duckdb.DuckDBPyConnection, table: str, report: ImportReport) -> None:
    """Give every person_id of `table` (columns person_id, name, and a game date `d`) one name:
    the name of his latest game in the bundle. A player renamed mid-season (Enes Kanter →
    Enes Freedom) stays one player_lookup; the report lists the renames."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE imp_names AS
            SELECT person_id, arg_max(name, d) AS name, list(DISTINCT name ORDER BY name) AS names
            FROM {table} WHERE nullif(trim(name), '') IS NOT NULL GROUP BY person_id"""
    )
    report.dropped["player rows without a name under their id anywhere in the bundle"] = con.execute(
        f"SELECT count(*) FROM {table} WHERE person_id NOT IN (SELECT person_id FROM imp_names)").fetchone()[0]
    for pid, name, names in con.execute(
        "SELECT person_id, name, names FROM imp_names WHERE len(names) > 1 ORDER BY person_id"
    ).fetchall():
        report.renamed.append({"person_id": pid, "names": names, "used": name})


# --- reading files -------------------------------------------------------------------------------


def find_file(folder: Path, patterns: Sequence[str], what: str, fmt: str, exclude: str | None = None) -> Path:
    """The one file of `folder` matching the first pattern that matches (names starting with
    `exclude` never match); InputError if none."""
    for pattern in patterns:
        found = sorted(p for p in folder.glob(pattern) if p.is_file() and not (exclude and p.name.startswith(exclude)))
        if len(found) > 1:
            raise InputError(f"{folder} has {len(found)} {what} files ({', '.join(p.name for p in found)})",
                             remedy="keep one bundle per folder: move the others out, then retry")
        if found:
            return found[0]
    other = {"nba-shotchart": ("nba-stats-boxscores", "games_details*.csv*"),
             "nba-stats-boxscores": ("nba-shotchart", "*[Ss]hots*.csv*")}.get(fmt)
    hint = (f"; this folder looks like an {other[0]} bundle: use --format {other[0]}"
            if other and folder.is_dir() and any(folder.glob(other[1])) else "")
    raise InputError(
        f"{folder} has no {what} file ({' or '.join(patterns)}) for --format {fmt}",
        remedy=f"point --path at the folder holding the {fmt} bundle (see docs/importers.md){hint}",
    )


def load_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, required: Sequence[str],
             name: str | Path | None = None) -> int:
    """Load CSV `path` (plain or .gz) as text columns into temp table `table`, with `_row` (the
    file's row order) and `_key` (a hash of the whole row, for exact duplicates); InputError
    naming the missing columns and the file as the user knows it (`name`: e.g. the zip a
    temporary CSV came out of). Returns the rows read."""
    shown = name or path
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT row_number() OVER () AS _row, md5(to_json(r)) AS _key, r.* "
            "FROM (SELECT * FROM read_csv(?, all_varchar = true, header = true)) r",
            [str(path)],
        )
    except duckdb.Error as err:
        first = str(err).splitlines()[0]
        raise InputError(f"{shown}: not a readable CSV ({first})", remedy="check the file is the bundle's CSV") from None
    have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    missing = [c for c in required if c not in have]
    if missing:
        raise InputError(f"{shown}: missing column(s) {', '.join(missing)}",
                         remedy="use the bundle's original file (docs/importers.md lists its columns)")
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def count_exact_duplicates(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Drop rows of `table` that repeat an earlier row exactly (same `_key`); returns how many
    were dropped."""
    before = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.execute(f"DELETE FROM {table} WHERE _row IN (SELECT _row FROM {table} "
                "QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _row) > 1)")
    return before - con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def check_seasons(con: duckdb.DuckDBPyConnection, fmt: str) -> None:
    """InputError when a regular-season game falls outside fullcourt's season calendar."""
    rows = con.execute(
        "SELECT min(game_date), max(game_date), count(*) FROM imp_games"
    ).fetchall()[0]
    if not rows[2]:
        raise InputError(f"the {fmt} bundle holds no regular-season game", remedy="check --path")
    outside = [r[0] for r in con.execute("SELECT DISTINCT game_date FROM imp_games ORDER BY 1").fetchall()
               if season_of(r[0]) is None]
    if outside:
        known = ", ".join(s.label for s in SEASONS)
        raise InputError(
            f"{len(outside)} game date(s) of the bundle, first {outside[0]}, are outside fullcourt's seasons ({known})",
            remedy="add the season to fullcourt.nba.calendar.SEASONS, or import a bundle of a known season",
        )


def count_where(con: duckdb.DuckDBPyConnection, source: str, conditions: dict[str, str]) -> dict[str, int]:
    """{label: rows of `source` (a table or a parenthesised query) meeting the SQL condition},
    all counted in one scan."""
    cols = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in conditions.values())
    return dict(zip(conditions, con.execute(f"SELECT {cols} FROM {source}").fetchone()))


def count_into(con: duckdb.DuckDBPyConnection, source: str, counts: Sequence[tuple[dict[str, int], str, str]]) -> None:
    """For each (report section, label, SQL condition): section[label] = the rows of `source`
    meeting the condition, all counted in one scan (count_where)."""
    found = count_where(con, source, {str(i): cond for i, (_, _, cond) in enumerate(counts)})
    for i, (section, label, _) in enumerate(counts):
        section[label] = found[str(i)]


def no_inactive(con: duckdb.DuckDBPyConnection) -> None:
    """An empty imp_inactive, for a bundle without did-not-play rows."""
    con.execute("CREATE OR REPLACE TEMP TABLE imp_inactive (game_id VARCHAR, person_id BIGINT, name VARCHAR, "
                "team_abbr VARCHAR, status VARCHAR, reason VARCHAR)")


def no_shots(con: duckdb.DuckDBPyConnection) -> None:
    """An empty imp_shots, for a bundle without shot-level data."""
    con.execute("CREATE OR REPLACE TEMP TABLE imp_shots (game_id VARCHAR, action_number INTEGER, person_id BIGINT, "
                "team_abbr VARCHAR, period INTEGER, clock VARCHAR, shot_type VARCHAR, shot_distance DOUBLE, "
                "x DOUBLE, y DOUBLE, made BOOLEAN, basic_zone VARCHAR)")


# --- writing the landing folder ---------------------------------------------------------------------


def _clock(seconds: int) -> str:
    return f"PT{seconds // 60:02d}M{seconds % 60:02d}.00S"


def _team_ref(team_id: int, tri: str) -> dict[str, Any]:
    _, city, name = TEAMS[tri]
    return {"teamId": team_id, "teamTricode": tri, "teamCity": city, "teamName": name}


def _stats(row: dict[str, Any], unavailable: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"minutes": _clock(row["seconds"])}
    for col, key in STAT_KEYS:
        if row[col] is None and key in unavailable:
            continue
        out[key] = row[col]
    return out


def _grouped(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, list[dict[str, Any]]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in cur.fetchall():
        rec = dict(zip(names, row))
        out[rec["game_id"]].append(rec)
    return out


def write_landing(con: duckdb.DuckDBPyConnection, landing: Path, start: date | None, end: date | None,
                  report: ImportReport, unavailable: Sequence[str] = ()) -> None:
    """Write the landing payloads of the imp_* tables: schedule/{season}.json with every game
    of the bundle's seasons, and for each game date inside [start, end] (inclusive; None =
    open) its scoreboard and each game's box score, gamebook and shot log. Player statistics
    named in `unavailable` (payload keys) are left out and listed in the box score's
    `playerStatisticsUnavailable`. A bundle without shot data writes shot logs with
    `"shotDetail": "none"` and no shots. Fills report.per_date and report.files_written."""
    lo, hi = start or date.min, end or date.max
    span = con.execute("SELECT min(game_date), max(game_date), count(*) FILTER (WHERE game_date BETWEEN ? AND ?) "
                       "FROM imp_games", [lo, hi]).fetchone()
    if not span[2]:
        raise InputError(f"no regular-season game of the {report.format} bundle falls in {start} .. {end}; "
                         f"the bundle's games run {span[0]} .. {span[1]}",
                         remedy="choose --start-date/--end-date inside the bundle's span, or leave them out")
    outside = [f"starts {start}, before its first game on {span[0]}" if start and start < span[0] else "",
               f"ends {end}, after its last game on {span[1]}" if end and end > span[1] else ""]
    if any(outside):
        report.notes.append(f"the range asked {' and '.join(o for o in outside if o)}: the bundle has no games "
                            f"there, so only {max(lo, span[0])} .. {min(hi, span[1])} was imported")
    games = con.execute(
        "SELECT game_id, game_date, season, home_team_id, home_abbr, away_team_id, away_abbr, home_score, away_score "
        "FROM imp_games ORDER BY game_date, game_id").fetchall()
    in_range = [g for g in games if lo <= g[1] <= hi]
    params = [lo, hi]
    scope = "WHERE game_id IN (SELECT game_id FROM imp_games WHERE game_date BETWEEN ? AND ?)"
    players = _grouped(con, f"SELECT * FROM imp_players {scope} ORDER BY game_id, is_home DESC, starter DESC NULLS LAST, "
                            "seconds DESC, person_id", params)
    teams = _grouped(con, f"SELECT * FROM imp_teams {scope} ORDER BY game_id", params)
    inactive = _grouped(con, f"SELECT * FROM imp_inactive {scope} ORDER BY game_id, team_abbr, person_id", params)
    shots: dict[str, list[tuple]] = defaultdict(list)
    for row in con.execute(f"SELECT {', '.join(SHOT_COLUMNS)} FROM imp_shots {scope} ORDER BY game_id, action_number",
                           params).fetchall():
        shots[row[0]].append(row)
    unavailable_set = set(unavailable)

    # a file where a folder must go would fail half-way through the writes: refused first
    blocked = [p for p in [landing, landing / "schedule", *(landing / d.isoformat() for d in sorted({g[1] for g in in_range}))]
               if p.exists() and not p.is_dir()]
    if blocked:
        raise InputError(f"{blocked[0]} is a file where the import writes a folder",
                         remedy=f"move it out of {landing}, or import into another --landing")
    _mkdir(landing / "schedule")
    by_season: dict[str, dict[date, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for g in games:
        by_season[g[2]][g[1]].append(g)
    for label, days in sorted(by_season.items()):
        payload = {"leagueSchedule": {"seasonYear": label, "leagueId": "00", "gameDates": [
            {"gameDate": d.isoformat(), "games": [
                {"gameId": g[0], "gameStatus": 1, "gameStatusText": "Scheduled",
                 "homeTeam": _team_ref(g[3], g[4]), "awayTeam": _team_ref(g[5], g[6])} for g in day]}
            for d, day in sorted(days.items())]}}
        _write(landing / "schedule" / f"{label}.json", payload)
        report.files_written += 1

    by_date: dict[date, list[tuple]] = defaultdict(list)
    for g in in_range:
        by_date[g[1]].append(g)
    for d, day in sorted(by_date.items()):
        folder = landing / d.isoformat()
        _mkdir(folder)
        _write(folder / "schedule.json", {"scoreboard": {"gameDate": d.isoformat(), "leagueId": "00", "games": [
            {"gameId": g[0], "gameStatus": 3, "gameStatusText": "Final",
             "homeTeam": {"teamId": g[3], "teamTricode": g[4], "score": g[7]},
             "awayTeam": {"teamId": g[5], "teamTricode": g[6], "score": g[8]}} for g in day]}})
        n_players = n_games = 0
        for g in day:
            gid = g[0]
            if sum(1 for t in teams.get(gid, []) if t["is_home"] in (True, False)) < 2:
                # the bundle lacks a side of this game: it stays on the schedule (a visible gap)
                report.dropped["games whose rows lack a team (left out; a gap on the schedule)"] = (
                    report.dropped.get("games whose rows lack a team (left out; a gap on the schedule)", 0) + 1)
                continue
            if {p["is_home"] for p in players.get(gid, [])} != {True, False}:
                # team totals without player lines (e.g. a player-log file that ends early): a box
                # score with no players would load as a game nobody played in, so it stays a gap
                report.dropped[NO_PLAYER_LINES] = report.dropped.get(NO_PLAYER_LINES, 0) + 1
                continue
            n_games += 1
            sides = {}
            for is_home, team_id, tri in ((True, g[3], g[4]), (False, g[5], g[6])):
                total = next((t for t in teams.get(gid, []) if t["is_home"] == is_home), None)
                lines = [p for p in players.get(gid, []) if p["is_home"] == is_home]
                n_players += len(lines)
                sides[is_home] = {
                    "teamId": team_id, "teamTricode": tri,
                    "score": total["points"] if total else None,
                    "statistics": _stats(total, set()) if total else None,
                    "players": [{
                        "personId": p["person_id"], "name": p["name"], "position": p["position"] or "",
                        "starter": "1" if p["starter"] else "0",
                        "statistics": {**_stats(p, unavailable_set), "plusMinusPoints": p["plus_minus"]},
                    } for p in lines],
                }
            game: dict[str, Any] = {"gameId": gid, "gameDate": d.isoformat(), "gameStatus": 3,
                                    "homeTeam": sides[True], "awayTeam": sides[False]}
            if unavailable_set:
                game["playerStatisticsUnavailable"] = sorted(unavailable_set)
            _write(folder / f"boxscore_{gid}.json", {"game": game})
            _write(folder / f"gamebook_{gid}.json", {"gamebook": {"gameId": gid, "gameDate": d.isoformat(),
                   "inactivePlayers": [{"personId": r["person_id"], "name": r["name"], "teamTricode": r["team_abbr"],
                                        "status": r["status"], "reason": r["reason"]} for r in inactive.get(gid, [])]}})
            _write(folder / f"shots_{gid}.json", shots_text(gid, d, shots.get(gid, []), report.shot_detail))
            report.files_written += 3
        report.files_written += 1
        report.per_date[d] = {"games": n_games, "player_games": n_players}


NO_PLAYER_LINES = "games with a team's totals but none of its player lines (left out; a gap on the schedule)"
SHOT_COLUMNS = ("game_id", "action_number", "person_id", "team_abbr", "period", "clock", "shot_type",
                "shot_distance", "x", "y", "made", "basic_zone")
_SHOT_TEMPLATE = "   {\n" + ",\n".join(f'    "{k}": %s' for k in (
    "actionNumber", "basicZone", "clock", "period", "personId", "shotDistance", "shotResult", "shotType",
    "teamTricode", "x", "y")) + "\n   }"


def _json_scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return encode_basestring(v)
    return repr(v)


def shot_payload(gid: str, d: date, rows: Sequence[tuple], shot_detail: bool) -> dict[str, Any]:
    """The shot log payload of a game from imp_shots rows (SHOT_COLUMNS order)."""
    chart: dict[str, Any] = {"gameId": gid, "gameDate": d.isoformat(), "shots": [
        {"actionNumber": a, "personId": pid, "teamTricode": team, "period": per, "clock": clock, "shotType": st,
         "shotDistance": dist, "x": x, "y": y, "shotResult": "Made" if made else "Missed", "basicZone": zone}
        for _, a, pid, team, per, clock, st, dist, x, y, made, zone in rows]}
    if not shot_detail:
        chart["shotDetail"] = "none"
    return {"shotchart": chart}


def shots_text(gid: str, d: date, rows: Sequence[tuple], shot_detail: bool) -> str:
    """Exactly canonical_json(shot_payload(...)), rendered with one template per shot: shot logs
    are most of an import's bytes."""
    j, enc, num = _json_scalar, encode_basestring, float.__repr__
    items = [_SHOT_TEMPLATE % (a, "null" if zone is None else enc(zone), enc(clock), per, pid,
                               "null" if dist is None else num(dist), '"Made"' if made else '"Missed"', enc(st),
                               enc(team), "null" if x is None else num(x), "null" if y is None else num(y))
             for _, a, pid, team, per, clock, st, dist, x, y, made, zone in rows]
    body = "[\n" + ",\n".join(items) + "\n  ]" if items else "[]"
    detail = "" if shot_detail else '\n  "shotDetail": "none",'
    return (f'{{\n "shotchart": {{\n  "gameDate": {j(d.isoformat())},\n  "gameId": {j(gid)},{detail}'
            f'\n  "shots": {body}\n }}\n}}')


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create {folder} ({err.strerror or err}): the landing folder is partly updated",
                         remedy="fix the folder (space, permissions) and run the same import again") from None


def _write(path: Path, payload: dict[str, Any] | str) -> None:
    """Write a payload (or its text) whole: under a temporary name first, then renamed, so a
    failed import leaves no truncated JSON. An OSError is an InputError naming the file."""
    text = payload if isinstance(payload, str) else canonical_json(payload)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path} ({err.strerror or err}): the landing folder is partly updated",
                         remedy="fix the folder (space, permissions) and run the same import again") from None


def finish(report: ImportReport, t0: float) -> ImportReport:
    report.seconds = time.perf_counter() - t0
    if report.start or report.end:
        report.notes.append("counts other than the games and player-games per date are over the whole bundle")
    report.dropped = {k: v for k, v in report.dropped.items() if v}
    report.derived = {k: v for k, v in report.derived.items() if v}
    report.disagreements = {k: v for k, v in report.disagreements.items() if v}
    return report
