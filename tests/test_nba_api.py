"""scrape --source nba-api: stats.nba.com responses parse into the same landing payloads.

No network here: the three responses (ShotChartDetail, LeagueGameLog in player and team
mode) are built from the real nba-shotchart bundle's rows in NBA.com's own layout (dates as
YYYYMMDD / YYYY-MM-DD, court coordinates in tenths of a foot, made flags 0/1), then imported.
The landing files must equal a direct import of the bundle for the same dates, byte for byte.
"""
from __future__ import annotations

import csv
import gzip
import io
import zipfile
from datetime import date, datetime

import duckdb
import pytest

from fullcourt import api
from fullcourt.errors import InputError
from fullcourt.nba.sources.nba_api_live import import_responses, rows_of

from realdata import SHOTCHART, require  # noqa: E402

require(SHOTCHART)
BUNDLE = SHOTCHART
START, END = date(2023, 1, 6), date(2023, 1, 8)


def result_set(name: str, rows: list[dict]) -> dict:
    headers = list(rows[0])
    return {"resource": "x", "resultSets": [{"name": name, "headers": headers,
                                             "rowSet": [[r[h] for h in headers] for r in rows]}]}


def responses() -> tuple[dict, dict, dict]:
    with zipfile.ZipFile(next(BUNDLE.glob("*Shots*.zip"))) as z:
        member = next(m for m in z.namelist() if m.endswith(".csv") and not m.startswith("__MACOSX/"))
        shots_in = list(csv.DictReader(io.TextIOWrapper(z.open(member), encoding="utf-8")))
    shots = [{
        "GRID_TYPE": "Shot Chart Detail", "GAME_ID": s["GAME_ID"].zfill(10), "GAME_EVENT_ID": i,
        "PLAYER_ID": int(s["PLAYER_ID"]), "PLAYER_NAME": s["PLAYER_NAME"], "TEAM_ID": int(s["TEAM_ID"]),
        "TEAM_NAME": s["TEAM_NAME"], "PERIOD": int(s["QUARTER"]), "MINUTES_REMAINING": int(s["MINS_LEFT"]),
        "SECONDS_REMAINING": int(s["SECS_LEFT"]), "EVENT_TYPE": s["EVENT_TYPE"], "ACTION_TYPE": s["ACTION_TYPE"],
        "SHOT_TYPE": s["SHOT_TYPE"], "SHOT_ZONE_BASIC": s["BASIC_ZONE"], "SHOT_ZONE_AREA": s["ZONE_NAME"],
        "SHOT_ZONE_RANGE": s["ZONE_RANGE"], "SHOT_DISTANCE": int(s["SHOT_DISTANCE"]),
        "LOC_X": round(-float(s["LOC_X"]) * 10, 1), "LOC_Y": round((float(s["LOC_Y"]) - 5.25) * 10, 1),
        "SHOT_ATTEMPTED_FLAG": 1, "SHOT_MADE_FLAG": 1 if s["SHOT_MADE"].upper() == "TRUE" else 0,
        "GAME_DATE": datetime.strptime(s["GAME_DATE"], "%m-%d-%Y").strftime("%Y%m%d"),
        "HTM": s["HOME_TEAM"], "VTM": s["AWAY_TEAM"]} for i, s in enumerate(shots_in)
        if START <= datetime.strptime(s["GAME_DATE"], "%m-%d-%Y").date() <= END]  # DateFrom/DateTo
    with gzip.open(next(BUNDLE.glob("player_game_logs*.csv.gz")), "rt", newline="") as f:
        players = [{**{k: (v if v != "" else None) for k, v in r.items() if k != "SEASON_TYPE"},
                    "GAME_ID": None, "FGM": None, "FTA": None} for r in csv.DictReader(f)
                   if r["SEASON_TYPE"] == "Regular Season" and START <= date.fromisoformat(r["GAME_DATE"]) <= END]
    with gzip.open(next(BUNDLE.glob("team_game_logs*.csv.gz")), "rt", newline="") as f:
        teams = [{"SEASON_ID": "22022", "TEAM_ID": int(r["Team_ID"]), "TEAM_ABBREVIATION": r["TEAM_ABBREVIATION"],
                  "GAME_ID": r["Game_ID"], "GAME_DATE": datetime.strptime(r["GAME_DATE"], "%b %d, %Y").date().isoformat(),
                  **{k: r[k] for k in ("MATCHUP", "WL", "MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM",
                                       "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PTS")}}
                 for r in csv.DictReader(f)]
    return (result_set("Shot_Chart_Detail", shots), result_set("LeagueGameLog", players),
            result_set("LeagueGameLog", teams))


@pytest.fixture(scope="module")
def landings(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbaapi")
    shots, players, teams = responses()
    con = duckdb.connect()
    report = import_responses(con, shots, players, teams, root / "live", START, END)
    api.import_bundle(root / "b.duckdb", root / "bundle", "nba-shotchart", BUNDLE, START, END)
    return root / "live", root / "bundle", report


def test_live_responses_give_the_same_landing_files_as_the_bundle(landings):
    live, bundle, report = landings
    files = sorted(p.relative_to(bundle) for p in bundle.rglob("*.json") if p.name != api.LEAGUE_FILE)
    assert files == sorted(p.relative_to(live) for p in live.rglob("*.json"))
    assert len(files) > 3 * 20
    differ = [f for f in files if (live / f).read_bytes() != (bundle / f).read_bytes()]
    assert not differ, differ[:5]
    assert report.format == "nba-api" and report.games == sum(1 for f in files if f.name.startswith("boxscore_"))


def test_a_response_without_the_result_set_is_a_clear_error():
    with pytest.raises(InputError, match="no result set 'Shot_Chart_Detail'"):
        rows_of({"resultSets": [{"name": "LeagueAverages", "headers": [], "rowSet": []}]}, "Shot_Chart_Detail")
    assert rows_of({"resultSet": {"name": "LeagueGameLog", "headers": ["A", "B"], "rowSet": [[1, 2]]}},
                   "LeagueGameLog") == [{"A": 1, "B": 2}]
