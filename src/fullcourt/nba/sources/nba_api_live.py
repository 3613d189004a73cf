"""`fullcourt scrape --source nba-api`: the shot-chart season fetched live from stats.nba.com.

Three nba_api endpoints give what the nba-shotchart bundle holds: ShotChartDetail (every
field-goal attempt of the league, team_id 0 / player_id 0), and LeagueGameLog in player and
in team mode. Their responses (`{"resultSets": [{"name", "headers", "rowSet"}]}`) are turned
into the bundle's CSV layout and imported by the same code as the bundle
(nba_shotchart.import_bundle), so the landing payloads, derivations and report are the same.

Fetching needs the optional `nba_api` package and network access to stats.nba.com; parsing
does not, and is tested on responses built from the real bundle.
"""
from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from fullcourt.errors import InputError, UsageError
from fullcourt.nba.calendar import season_label
from fullcourt.nba.sources import nba_shotchart
from fullcourt.nba.sources.nbacom import ImportReport

SHOT_FILE, PLAYER_FILE, TEAM_FILE = "NBA_live_Shots.csv", "player_game_logs_live.csv", "team_game_logs_live.csv"
TEAM_STATS = ("MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM", "FTA", "FT_PCT", "OREB", "DREB", "REB",
              "AST", "STL", "BLK", "TOV", "PF", "PTS")


def rows_of(payload: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The rows of result set `name` of an NBA.com stats response, as dicts; InputError when the
    response does not hold it."""
    sets = payload.get("resultSets") or payload.get("resultSet") or []
    if isinstance(sets, dict):
        sets = [sets]
    for rs in sets:
        if isinstance(rs, dict) and rs.get("name") == name:
            headers = rs.get("headers") or []
            return [dict(zip(headers, row)) for row in rs.get("rowSet") or []]
    names = [rs.get("name") for rs in sets if isinstance(rs, dict)]
    raise InputError(f"the stats.nba.com response has no result set {name!r} (it has {names})",
                     remedy="check the endpoint and its parameters")


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def write_bundle(folder: Path, shots: dict[str, Any], player_logs: dict[str, Any], team_logs: dict[str, Any],
                 season_type: str = "Regular Season") -> None:
    """Write the three responses into `folder` as the nba-shotchart bundle's CSV files:
    ShotChartDetail's Shot_Chart_Detail, LeagueGameLog (player mode) and LeagueGameLog
    (team mode), each its LeagueGameLog result set."""
    folder.mkdir(parents=True, exist_ok=True)
    shot_rows = rows_of(shots, "Shot_Chart_Detail")
    with (folder / SHOT_FILE).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(nba_shotchart.SHOT_COLUMNS + ("TEAM_NAME", "EVENT_TYPE", "ACTION_TYPE"))
        for s in shot_rows:
            d = datetime.strptime(_text(s["GAME_DATE"]), "%Y%m%d").date()
            w.writerow([s["TEAM_ID"], s["PLAYER_ID"], s["PLAYER_NAME"], d.strftime("%m-%d-%Y"), s["GAME_ID"],
                        s["HTM"], s["VTM"], "TRUE" if int(s["SHOT_MADE_FLAG"]) else "FALSE", s["SHOT_TYPE"],
                        s["SHOT_ZONE_BASIC"], _feet(s["LOC_X"], -10.0), _feet(s["LOC_Y"], 10.0, 5.25), _text(s["SHOT_DISTANCE"]),
                        s["PERIOD"], s["MINUTES_REMAINING"], s["SECONDS_REMAINING"], _text(s.get("TEAM_NAME")),
                        _text(s.get("EVENT_TYPE")), _text(s.get("ACTION_TYPE"))])
    with (folder / PLAYER_FILE).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(nba_shotchart.PLAYER_COLUMNS)
        for p in rows_of(player_logs, "LeagueGameLog"):
            w.writerow([_text(p.get(c)) if c != "SEASON_TYPE" else season_type for c in nba_shotchart.PLAYER_COLUMNS])
    with (folder / TEAM_FILE).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("Team_ID", "Game_ID", "GAME_DATE", "MATCHUP", "WL") + TEAM_STATS + ("TEAM_ABBREVIATION",))
        for t in rows_of(team_logs, "LeagueGameLog"):
            d = date.fromisoformat(_text(t["GAME_DATE"])[:10])
            w.writerow([t["TEAM_ID"], t["GAME_ID"], d.strftime("%b %d, %Y").upper(), t["MATCHUP"], _text(t.get("WL"))]
                       + [_text(t.get(c)) for c in TEAM_STATS] + [t["TEAM_ABBREVIATION"]])


def _feet(tenths: Any, scale: float, offset: float = 0.0) -> str:
    """NBA.com court coordinates are tenths of a foot from the hoop; the bundle's are feet, x
    mirrored (scale −10) and y from the baseline (offset 5.25 ft), as its -0.0 values show."""
    if tenths is None or tenths == "":
        return ""
    feet = float(tenths) / scale
    return repr(round(feet + offset, 2) if offset else round(feet, 2))


def import_responses(con: duckdb.DuckDBPyConnection, shots: dict[str, Any], player_logs: dict[str, Any],
                     team_logs: dict[str, Any], landing: Path, start: date | None, end: date | None,
                     source: str = "stats.nba.com") -> ImportReport:
    """Import three stats.nba.com responses like the nba-shotchart bundle (see write_bundle)."""
    with tempfile.TemporaryDirectory(prefix="fullcourt-nba-api-") as tmp:
        write_bundle(Path(tmp), shots, player_logs, team_logs)
        report = nba_shotchart.import_bundle(con, Path(tmp), landing, start, end)
    report.format, report.path = "nba-api", source
    return report


def fetch(start: date, end: date, timeout: float = 60.0) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The three responses for the season of `start`, live: shots and player logs of games
    start..end (inclusive), the team log of the whole season.

    Raises UsageError when nba_api is not installed, InputError when stats.nba.com cannot be
    reached or the range spans two seasons."""
    label = season_label(start)
    if season_label(end) != label:
        raise UsageError(f"{start} .. {end} spans two seasons", remedy="scrape one season at a time")
    try:
        from nba_api.stats.endpoints import leaguegamelog, shotchartdetail  # type: ignore[import-not-found]
    except ImportError:
        raise UsageError("the nba-api source needs the nba_api package and network access to stats.nba.com",
                         remedy="pip install 'fullcourt[live]' (or pip install nba_api) on a networked machine, "
                                "or use fullcourt import with files you already have") from None
    fmt = "%m/%d/%Y"
    try:
        shots = shotchartdetail.ShotChartDetail(
            team_id=0, player_id=0, season_nullable=label, season_type_all_star="Regular Season",
            context_measure_simple="FGA", date_from_nullable=start.strftime(fmt), date_to_nullable=end.strftime(fmt),
            timeout=timeout).get_dict()
        players = leaguegamelog.LeagueGameLog(
            season=label, season_type_all_star="Regular Season", player_or_team_abbreviation="P",
            date_from_nullable=start.strftime(fmt), date_to_nullable=end.strftime(fmt), timeout=timeout).get_dict()
        # the whole season's team log: the league schedule must list every game, so that dates
        # not fetched yet stay visible as gaps
        teams = leaguegamelog.LeagueGameLog(
            season=label, season_type_all_star="Regular Season", player_or_team_abbreviation="T",
            timeout=timeout).get_dict()
    except Exception as err:  # network errors come in many types (requests, urllib3, JSON)
        raise InputError(f"could not fetch from stats.nba.com: {type(err).__name__}: {str(err).splitlines()[0][:200]}",
                         remedy="check the network, or use fullcourt import with files you already have") from None
    return shots, players, teams


def scrape_nba_api(landing: Path, start: date, end: date, timeout: float = 60.0) -> ImportReport:
    """Fetch [start, end] (inclusive) live and write its landing payloads."""
    shots, players, teams = fetch(start, end, timeout)
    con = duckdb.connect()
    try:
        return import_responses(con, shots, players, teams, landing, start, end)
    finally:
        con.close()
