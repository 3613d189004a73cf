"""Two zones when a bundle has no shot-level data: PSZA and TDZA values recomputed by hand.

The real NBA.com box-score bundle (2021-22 through 2021-11-30) has no shots. PSZA and TDZA
records must then use two zones, inside (2PT) and three, from FGA and 3PA, with paint and
mid-range NULL. Expected values are computed here from the CSV files with the csv module.
"""
from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date

import pytest

from fullcourt import api

from realdata import BOXSCORES, build_box_store, require  # noqa: E402

require(BOXSCORES)
REAL = BOXSCORES
START, END = date(2021, 10, 19), date(2021, 11, 30)
D = END


def r6(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_box_store(tmp_path_factory.mktemp("twozone"), START, END)


@pytest.fixture(scope="module")
def csv_games():
    """(game date, game id, team, opponent, [player rows that played]) of regular-season games."""
    with gzip.open(next(REAL.glob("games_2*.csv.gz")), "rt", newline="") as f:
        games = {r["GAME_ID"]: r for r in csv.DictReader(f) if r["GAME_ID"].startswith("2")}
    by_team: dict[tuple[str, str], list[dict]] = defaultdict(list)
    with gzip.open(next(REAL.glob("games_details*.csv.gz")), "rt", newline="") as f:
        for r in csv.DictReader(f):
            if r["GAME_ID"] in games and r["MIN"] and not r["COMMENT"]:
                by_team[(r["GAME_ID"], r["TEAM_ID"])].append(r)
    out = []
    for gid, g in games.items():
        for team, opp in ((g["HOME_TEAM_ID"], g["VISITOR_TEAM_ID"]), (g["VISITOR_TEAM_ID"], g["HOME_TEAM_ID"])):
            out.append((date.fromisoformat(g["GAME_DATE_EST"]), gid, team, opp, by_team[(gid, team)]))
    return out


def n(r: dict, col: str) -> int:
    return int(float(r[col]))


def test_psza_two_zone_values_for_every_player_on_a_date(store, csv_games):
    apps: dict[int, list[tuple[date, str, dict]]] = defaultdict(list)
    for d, gid, _, _, rows in csv_games:
        for r in rows:
            if r["MIN"] not in ("0:00", "00:00"):
                apps[int(r["PLAYER_ID"])].append((d, gid, r))
    with api.open_warehouse(store) as wh:
        stored = {row[0]: row[1:] for row in wh.con.execute(
            """SELECT person_id, zone_detail, inside_rate_last_10, three_rate_last_10, inside_pct_last_10,
                      three_pct_last_10, paint_rate_last_10, mid_range_rate_last_10, paint_pct_last_10,
                      primary_scoring_zone, fga_last_10
               FROM nba_precompute.player_shot_zone_analysis WHERE analysis_date = ?""", [D]).fetchall()}
    checked = 0
    for pid, games in apps.items():
        window = sorted((g for g in games if g[0] < D), key=lambda g: (g[0], g[1]), reverse=True)[:10]
        if len(window) < 10:
            assert pid not in stored
            continue
        fga = sum(n(r, "FGA") for *_, r in window)
        fg3a = sum(n(r, "FG3A") for *_, r in window)
        fgm = sum(n(r, "FGM") for *_, r in window)
        fg3m = sum(n(r, "FG3M") for *_, r in window)
        if fga == 0:
            assert pid not in stored
            continue
        inside_rate, three_rate = r6(100 * (fga - fg3a) / fga), r6(100 * fg3a / fga)
        expect = ("two_zone", inside_rate, three_rate,
                  r6((fgm - fg3m) / (fga - fg3a)) if fga > fg3a else None, r6(fg3m / fg3a) if fg3a else None,
                  None, None, None, "inside" if inside_rate >= three_rate else "three", fga)
        assert stored[pid] == pytest.approx(expect), pid
        checked += 1
    assert checked > 100


def test_tdza_two_zone_values_for_every_team_on_a_date(store, csv_games):
    team_games: dict[str, list[tuple[date, str, list[dict]]]] = defaultdict(list)
    opp_rows = {(gid, team): rows for _, gid, team, _, rows in csv_games}
    for d, gid, team, opp, _ in csv_games:
        team_games[team].append((d, gid, opp_rows[(gid, opp)]))
    sums = {}
    for team, games in team_games.items():
        window = sorted((g for g in games if g[0] < D), key=lambda g: (g[0], g[1]), reverse=True)[:15]
        if len(window) == 15:
            rows = [r for *_, opp in window for r in opp]
            sums[team] = tuple(sum(n(r, c) for r in rows) for c in ("FGM", "FGA", "FG3M", "FG3A"))
    league_inside = sum(s[0] - s[2] for s in sums.values()) / sum(s[1] - s[3] for s in sums.values())
    league_three = sum(s[2] for s in sums.values()) / sum(s[3] for s in sums.values())
    from fullcourt.nba.teams import TRICODE_BY_ID
    with api.open_warehouse(store) as wh:
        stored = {row[0]: row[1:] for row in wh.con.execute(
            """SELECT team_abbr, zone_detail, inside_pct_allowed, three_pct_allowed, paint_pct_allowed,
                      mid_range_vs_league, inside_vs_league, three_vs_league
               FROM nba_precompute.team_defense_zone_analysis WHERE analysis_date = ?""", [D]).fetchall()}
    assert len(sums) > 10 and set(stored) == {TRICODE_BY_ID[int(t)] for t in sums}
    for team, (fgm, fga, fg3m, fg3a) in sums.items():
        inside, three = (fgm - fg3m) / (fga - fg3a), fg3m / fg3a
        expect = ("two_zone", r6(inside), r6(three), None, None,
                  r6(100 * (r6(inside) - league_inside)), r6(100 * (r6(three) - league_three)))
        assert stored[TRICODE_BY_ID[int(team)]] == pytest.approx(expect, abs=1e-5), team


def test_features_never_invent_paint_or_mid_range(store):
    with api.open_warehouse(store) as wh:
        rows = wh.con.execute(
            """SELECT count(*), count(pct_paint), count(pct_mid_range), count(pct_three),
                      count(*) FILTER (WHERE list_contains(default_features, 'pct_paint')),
                      count(*) FILTER (WHERE zone_detail = 'two_zone')
               FROM nba_predictions.ml_feature_store_v2 m
               WHERE EXISTS (SELECT 1 FROM nba_precompute.player_shot_zone_analysis s
                             WHERE s.analysis_date = m.game_date AND s.person_id = m.person_id)""").fetchone()
    total, paint, mid, three, defaulted, two = rows
    assert total > 0 and paint == mid == defaulted == 0 and three == total == two
