"""PCF, PDC and MLFS.

Two worlds:
- a hand world (rows inserted directly into phase 3/4 tables of a fresh warehouse, one date
  D = 2021-11-20) where every expected value is worked out by hand and written as literal
  arithmetic, never by re-running the module's SQL;
- a tiny synthetic league run through the real phases 2-4, for coverage, windows and look-ahead.

Hand world (season 2021-22; every game BOS-NYK unless said; G17 BOS-LAL has no rows anywhere
upstream: an absent game; G19 is LAL-BOS):
  date   11-08 11-10 11-12 11-14 11-16 11-17 11-19 | 11-20 = D (BOS home vs NYK)
  P1 Tatum (BOS)  points 20 24 18 30 22  -  26   minutes 30 32 28 36 34 - 35
                  usage  10 20 20 20 20  -  30   ts .50 .55 .52 .60 .58 - .62   ftm 2 4 2 6 4 - 6
  P2 Horford (BOS)   plays 11-12 11-14 11-16 11-19 (4 games)
  P3 Barrett (NYK)   plays 11-08..11-16 (5 games), points 10 12 14 16 18, minutes 30
  P4 Randle (NYK)    plays 11-08..11-16 (5 games), points 20
  BOS offense: pace 100 100 97 96 98 - 103, off rating 110 112 108 114 106 - 110, W L W W L - W
  NYK offense: pace 100 100 97 96 98, off rating 105, L W L L W
  D's game G20 is already in player_game_summary / team_offense_game_summary with outlandish values
  (points 99, usage 99, pace 150): records dated D must not see them.
  Context on D: P1 days_rest 0, back-to-back, 3 games / 105 min in 7 days; P2 same team;
                P3, P4 days_rest 3, not back-to-back, 2 games / 60 min.
  PSZA on D: P1 (paint 30, mid 20, three 50 → primary three), P3 (paint 60, mid 25, three 15).
  TDZA on D: NYK only (paint −1.0, mid_range 0.5, three 2.5 vs league; def rating 110; pace 101).
"""
from __future__ import annotations

import math
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from fullcourt.engine.runner import RunOptions, run_processor, run_specs
from fullcourt.engine.warehouse import Warehouse
from fullcourt.dates import date_range as days
from fullcourt.nba.calendar import is_bootstrap
from fullcourt.nba.features import FEATURE_NAMES
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic

D = date(2021, 11, 20)
SEASON = "2021-22"
BACKFILL = RunOptions(backfill_mode=True)
FAILURES = "nba_processing.precompute_failures"
PCF = "nba_precompute.player_composite_factors"
PDC = "nba_precompute.player_daily_cache"
MLFS = "nba_predictions.ml_feature_store_v2"
OUTPUTS = {  # processor alias -> (table, date column)
    "pcf": (PCF, "game_date"),
    "pdc": (PDC, "cache_date"),
    "mlfs": (MLFS, "game_date"),
}


def rows(wh: Warehouse, sql: str, params: list | None = None) -> list[dict]:
    cur = wh.con.execute(sql, params or [])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def insert(wh: Warehouse, table: str, records: list[dict]) -> None:
    cols = list(records[0])
    wh.con.executemany(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [[r[c] for c in cols] for r in records],
    )


def run(wh: Warehouse, alias: str, dates: tuple[date, ...] = (D,)):
    spec = registry().get(alias)
    assert spec is not None
    return run_processor(wh, spec, dates, BACKFILL)


def failures(wh: Warehouse, processor: str) -> dict[str, dict]:
    return {r["entity_id"]: r for r in rows(wh, f"SELECT * FROM {FAILURES} WHERE processor_name = ?", [processor])}


def by_lookup(wh: Warehouse, table: str) -> dict[str, dict]:
    return {r["player_lookup"]: r for r in rows(wh, f"SELECT * FROM {table}")}


# ---------------------------------------------------------------- the hand world

GAMES = [  # date, game_id, home, away
    (date(2021, 11, 8), "G08", "BOS", "NYK"),
    (date(2021, 11, 10), "G10", "NYK", "BOS"),
    (date(2021, 11, 12), "G12", "BOS", "NYK"),
    (date(2021, 11, 14), "G14", "NYK", "BOS"),
    (date(2021, 11, 16), "G16", "BOS", "NYK"),
    (date(2021, 11, 17), "G17", "BOS", "LAL"),
    (date(2021, 11, 19), "G19", "LAL", "BOS"),
    (D, "G20", "BOS", "NYK"),
]
GAME = {gid: (d, home, away) for d, gid, home, away in GAMES}
PEOPLE = {1: ("jaysontatum", "Jayson Tatum", "BOS"), 2: ("alhorford", "Al Horford", "BOS"),
          3: ("rjbarrett", "RJ Barrett", "NYK"), 4: ("juliusrandle", "Julius Randle", "NYK")}
# person -> game_id -> (points, minutes, usage_rate, ts_pct, ftm)
LINES = {
    1: {"G08": (20, 30, 10, .50, 2), "G10": (24, 32, 20, .55, 4), "G12": (18, 28, 20, .52, 2),
        "G14": (30, 36, 20, .60, 6), "G16": (22, 34, 20, .58, 4), "G19": (26, 35, 30, .62, 6)},
    2: {g: (10, 25, 15, .50, 1) for g in ("G12", "G14", "G16", "G19")},
    3: {"G08": (10, 30, 25, .50, 2), "G10": (12, 30, 25, .50, 2), "G12": (14, 30, 25, .50, 2),
        "G14": (16, 30, 25, .50, 2), "G16": (18, 30, 25, .50, 2)},
    4: {g: (20, 34, 28, .55, 4) for g in ("G08", "G10", "G12", "G14", "G16")},
}
# D's own game is already in phase 3 (as in a backfill) with outlandish values: no record dated D
# may read it (no look-ahead), so every expectation below ignores these rows.
for _pid in LINES:
    LINES[_pid]["G20"] = (99, 48, 99, .99, 30)
# team -> game_id -> (pace, offensive_rating, win)
OFFENSE = {
    "BOS": {"G08": (100, 110, True), "G10": (100, 112, False), "G12": (97, 108, True),
            "G14": (96, 114, True), "G16": (98, 106, False), "G19": (103, 110, True)},
    "NYK": {"G08": (100, 105, False), "G10": (100, 105, True), "G12": (97, 105, False),
            "G14": (96, 105, False), "G16": (98, 105, True)},
    "LAL": {"G19": (103, 100, False)},
}
OFFENSE["BOS"]["G20"] = (150, 200, True)
OFFENSE["NYK"]["G20"] = (150, 50, False)
# person -> (days_rest, back_to_back, games_in_last_7_days, minutes_in_last_7_days)
CONTEXT = {1: (0, True, 3, 105.0), 2: (0, True, 3, 75.0), 3: (3, False, 2, 60.0), 4: (3, False, 2, 60.0)}


def opponent(team: str, gid: str) -> tuple[str, bool]:
    _, home, away = GAME[gid]
    return (away, True) if team == home else (home, False)


def seed_hand_world(wh: Warehouse) -> None:
    insert(wh, "nba_raw.nbac_schedule", [
        {"game_date": d, "game_id": gid, "season": SEASON, "home_team_abbr": h, "away_team_abbr": a,
         "game_status": 3} for d, gid, h, a in GAMES])
    pgs = []
    for pid, games in LINES.items():
        lookup, name, team = PEOPLE[pid]
        for gid, (points, minutes, usage, ts, ftm) in games.items():
            opp, home = opponent(team, gid)
            pgs.append({"game_date": GAME[gid][0], "game_id": gid, "season": SEASON, "person_id": pid,
                        "player_lookup": lookup, "player_name": name, "team_abbr": team,
                        "opponent_team_abbr": opp, "is_home": home, "minutes": float(minutes), "points": points,
                        "ftm": ftm, "usage_rate": float(usage), "ts_pct": ts})
    insert(wh, "nba_analytics.player_game_summary", pgs)
    togs = []
    for team, games in OFFENSE.items():
        for gid, (pace, rating, win) in games.items():
            opp, home = opponent(team, gid)
            togs.append({"game_date": GAME[gid][0], "game_id": gid, "season": SEASON, "team_abbr": team,
                         "opponent_team_abbr": opp, "is_home": home, "pace": float(pace),
                         "offensive_rating": float(rating), "win": win})
    insert(wh, "nba_analytics.team_offense_game_summary", togs)
    upgc = []
    for pid, (rest, b2b, g7, m7) in CONTEXT.items():
        lookup, name, team = PEOPLE[pid]
        opp, home = opponent(team, "G20")
        upgc.append({"game_date": D, "game_id": "G20", "season": SEASON, "person_id": pid, "player_lookup": lookup,
                     "player_name": name, "team_abbr": team, "opponent_team_abbr": opp, "is_home": home,
                     "days_rest": rest, "back_to_back": b2b, "games_in_last_7_days": g7,
                     "minutes_in_last_7_days": m7})
    insert(wh, "nba_analytics.upcoming_player_game_context", upgc)
    insert(wh, "nba_precompute.player_shot_zone_analysis", [
        {"analysis_date": D, "person_id": 1, "player_lookup": "jaysontatum", "season": SEASON,
         "paint_rate_last_10": 30.0, "mid_range_rate_last_10": 20.0, "three_rate_last_10": 50.0,
         "primary_scoring_zone": "three"},
        {"analysis_date": D, "person_id": 3, "player_lookup": "rjbarrett", "season": SEASON,
         "paint_rate_last_10": 60.0, "mid_range_rate_last_10": 25.0, "three_rate_last_10": 15.0,
         "primary_scoring_zone": "paint"},
    ])
    insert(wh, "nba_precompute.team_defense_zone_analysis", [
        {"analysis_date": D, "team_abbr": "NYK", "season": SEASON, "paint_vs_league": -1.0,
         "mid_range_vs_league": 0.5, "three_vs_league": 2.5, "defensive_rating_last_15": 110.0,
         "opponent_pace": 101.0}])


@pytest.fixture
def hand(wh):
    seed_hand_world(wh)
    return wh


NOV = {n: date(2021, 11, n) for n in (8, 10, 12, 14, 16, 17, 19)}
TATUM_DATES = [NOV[8], NOV[10], NOV[12], NOV[14], NOV[16], NOV[19]]


def test_pcf_hand_values_and_missing_dependencies(hand):
    result = run(hand, "pcf")
    assert [(r.status, r.records_created, r.records_failed) for r in result.rows] == [("success", 1, 3)]
    tatum = by_lookup(hand, PCF)["jaysontatum"]

    # fatigue: back-to-back, 3 games (1 over 2), 105 minutes (5 over 100)
    assert tatum["fatigue_score"] == pytest.approx(100 - 15 * 1 - 5 * (3 - 2) - 0.2 * (105 - 100))  # 79
    # mismatch: primary zone three; NYK allows +2.5 pp on threes; Tatum takes 50% of his shots there
    assert (tatum["primary_scoring_zone"], tatum["opponent_zone_vs_league"], tatum["zone_reliance"]) == (
        "three", 2.5, 0.5)
    assert tatum["shot_zone_mismatch_score"] == pytest.approx(2 * 2.5 * 0.5)  # 2.5
    # pace: BOS's 6 games before D average (100+100+97+96+98+103)/6 = 99; NYK's opponent_pace 101
    assert tatum["team_pace_last_10"] == pytest.approx((100 + 100 + 97 + 96 + 98 + 103) / 6)
    assert tatum["opponent_pace_last_15"] == 101.0
    assert tatum["pace_score"] == pytest.approx(0.3 * (101 - 99))  # 0.6
    # usage: last 3 = 11-19, 11-16, 11-14 → (30+20+20)/3; last 10 = all six → 120/6 = 20
    assert tatum["usage_avg_last_3"] == pytest.approx((30 + 20 + 20) / 3, abs=1e-6)
    assert tatum["usage_avg_last_10"] == pytest.approx((10 + 20 + 20 + 20 + 20 + 30) / 6)
    assert tatum["usage_spike_score"] == pytest.approx(0.3 * ((30 + 20 + 20) / 3 - 20), abs=1e-6)  # 1.0
    assert tatum["total_composite_adjustment"] == pytest.approx(2.5 + 0.6 + 1.0 + 0.05 * (79 - 100), abs=1e-6)
    assert (tatum["days_rest"], tatum["back_to_back"], tatum["games_in_last_7_days"]) == (0, True, 3)
    # completeness: 6 games of 10, BOS's 11-17 game is absent upstream → upstream gap
    hc = tatum["historical_completeness"]
    assert hc["contributing_game_dates"] == TATUM_DATES
    assert hc["missing_game_dates"] == [NOV[17]]
    assert (hc["games_found"], hc["games_expected"], hc["is_complete"], hc["incompleteness_reason"]) == (
        6, 6 + 1, False, "upstream_gap")

    failed = failures(hand, "PlayerCompositeFactorsProcessor")
    assert set(failed) == {"alhorford", "rjbarrett", "juliusrandle"}
    assert {f["failure_category"] for f in failed.values()} == {"MISSING_DEPENDENCY"}
    assert all(f["can_retry"] for f in failed.values())
    assert failed["alhorford"]["failure_reason"] == "no PSZA row for alhorford on 2021-11-20"
    assert failed["rjbarrett"]["failure_reason"] == "no TDZA row for opponent BOS on 2021-11-20"
    assert failed["juliusrandle"]["failure_reason"] == (
        "no PSZA row for juliusrandle and no TDZA row for opponent BOS on 2021-11-20")


def test_pdc_hand_values_and_failures(hand):
    run(hand, "pcf")
    result = run(hand, "pdc")
    assert [(r.status, r.records_created, r.records_failed) for r in result.rows] == [("success", 2, 2)]
    got = by_lookup(hand, PDC)
    tatum, barrett = got["jaysontatum"], got["rjbarrett"]

    points = [20, 24, 18, 30, 22, 26]  # oldest first
    mean10 = (20 + 24 + 18 + 30 + 22 + 26) / 6
    assert tatum["points_avg_last_5"] == pytest.approx((24 + 18 + 30 + 22 + 26) / 5)  # 24
    assert tatum["points_avg_last_10"] == pytest.approx(mean10, abs=1e-6)
    assert tatum["points_avg_season"] == pytest.approx(mean10, abs=1e-6)
    assert tatum["points_std_last_10"] == pytest.approx(
        math.sqrt(sum((p - mean10) ** 2 for p in points) / (6 - 1)), abs=1e-6)  # ≈ 4.320494
    assert tatum["minutes_avg_last_5"] == pytest.approx((32 + 28 + 36 + 34 + 35) / 5)  # 33
    assert tatum["minutes_avg_last_10"] == pytest.approx((30 + 32 + 28 + 36 + 34 + 35) / 6)  # 32.5
    assert tatum["usage_avg_last_10"] == pytest.approx(20.0)
    assert tatum["ts_pct_avg_last_10"] == pytest.approx((.50 + .55 + .52 + .60 + .58 + .62) / 6, abs=1e-6)
    assert tatum["ft_points_share_last_10"] == pytest.approx((2 + 4 + 2 + 6 + 4 + 6) / 140, abs=1e-6)
    assert tatum["games_played_season"] == 6
    assert tatum["team_pace_last_10"] == pytest.approx(99.0)
    assert tatum["team_off_rating_last_10"] == pytest.approx((110 + 112 + 108 + 114 + 106 + 110) / 6)  # 110
    assert tatum["team_win_pct_season"] == pytest.approx(4 / 6, abs=1e-6)
    assert tatum["composite_adjustment"] == pytest.approx(2.5 + 0.6 + 1.0 + 0.05 * (79 - 100), abs=1e-6)
    hc = tatum["historical_completeness"]
    assert (hc["games_found"], hc["games_expected"], hc["missing_game_dates"], hc["is_complete"]) == (
        6, 7, [NOV[17]], False)

    # Barrett: 5 games (points 10..18), NYK never played the absent 11-17 game; no PCF row
    assert barrett["points_avg_last_5"] == pytest.approx((10 + 12 + 14 + 16 + 18) / 5)  # 14
    assert barrett["points_std_last_10"] == pytest.approx(math.sqrt((16 + 4 + 0 + 4 + 16) / 4), abs=1e-6)
    assert barrett["team_pace_last_10"] == pytest.approx((100 + 100 + 97 + 96 + 98) / 5)  # 98.2
    assert barrett["team_win_pct_season"] == pytest.approx(2 / 5)
    assert barrett["composite_adjustment"] is None
    hc = barrett["historical_completeness"]
    assert (hc["games_found"], hc["games_expected"], hc["is_complete"], hc["incompleteness_reason"]) == (
        5, 5, True, None)

    failed = failures(hand, "PlayerDailyCacheProcessor")
    assert set(failed) == {"alhorford", "juliusrandle"}
    # Horford: 4 games + the absent 11-17 game could have made 5 → retryable upstream gap
    assert (failed["alhorford"]["failure_category"], failed["alhorford"]["can_retry"]) == (
        "INCOMPLETE_UPSTREAM", True)
    assert failed["alhorford"]["failure_reason"] == (
        "4 of 5 games in the season before 2021-11-20; missing upstream: 2021-11-17")
    # Randle: 5 games but no PSZA row
    assert (failed["juliusrandle"]["failure_category"], failed["juliusrandle"]["can_retry"]) == (
        "MISSING_DEPENDENCY", True)
    assert failed["juliusrandle"]["failure_reason"] == "no PSZA row for juliusrandle on 2021-11-20"


def test_pdc_too_few_games_without_gap_is_expected_incomplete(hand):
    hand.con.execute("DELETE FROM nba_analytics.player_game_summary WHERE person_id = 2 AND game_id = 'G12'")
    run(hand, "pdc")
    horford = failures(hand, "PlayerDailyCacheProcessor")["alhorford"]
    # 3 games + 1 missing = 4 < 5: even a backfill would not make him eligible
    assert (horford["failure_category"], horford["can_retry"]) == ("EXPECTED_INCOMPLETE", False)


def test_mlfs_hand_values_defaults_and_missing_pdc(hand):
    run(hand, "pcf")
    run(hand, "pdc")
    # Barrett loses his PSZA row after PDC ran: his pct_* fall back to the day's PSZA means (Tatum's)
    hand.con.execute("DELETE FROM nba_precompute.player_shot_zone_analysis WHERE person_id = 3")
    result = run(hand, "mlfs")
    assert [(r.status, r.records_created, r.records_failed) for r in result.rows] == [("success", 2, 2)]
    got = by_lookup(hand, MLFS)
    tatum, barrett = got["jaysontatum"], got["rjbarrett"]

    expected_tatum = {
        "points_avg_last_5": 24.0, "points_avg_last_10": 140 / 6, "points_avg_season": 140 / 6,
        "points_std_last_10": math.sqrt(sum((p - 140 / 6) ** 2 for p in [20, 24, 18, 30, 22, 26]) / 5),
        "games_in_last_7_days": 3.0, "fatigue_score": 79.0, "shot_zone_mismatch_score": 2.5,
        "pace_score": 0.6, "usage_spike_score": 1.0,
        # Tatum rests 0 days; NYK last played 11-16 → 20 − 16 − 1 = 3 days; 0 − 3 = −3
        "rest_advantage": 0 - 3,
        "recent_trend": 24 - 140 / 6, "minutes_change": 33 - 32.5,
        "opponent_def_rating": 110.0, "opponent_pace": 101.0, "home_away": 1.0, "back_to_back": 1.0,
        "pct_paint": 0.30, "pct_mid_range": 0.20, "pct_three": 0.50, "pct_free_throw": 24 / 140,
        "team_pace": 99.0, "team_off_rating": 110.0, "team_win_pct": 4 / 6,
    }
    assert set(expected_tatum) == set(FEATURE_NAMES)
    for name, value in expected_tatum.items():
        assert tatum[name] == pytest.approx(value, abs=1e-5), name
    assert tatum["default_features"] == []
    assert (tatum["game_id"], tatum["opponent_team_abbr"], tatum["feature_version"]) == ("G20", "NYK", "v2_1.0")
    hc = tatum["historical_completeness"]
    assert (hc["games_found"], hc["missing_game_dates"], hc["is_complete"]) == (6, [NOV[17]], False)
    assert tatum["is_production_ready"] is False  # incomplete: 11-17 is missing upstream

    # Barrett: no PCF row, no TDZA for BOS, PSZA removed → defaults, all named
    assert barrett["default_features"] == [
        "fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score",
        "opponent_def_rating", "opponent_pace", "pct_paint", "pct_mid_range", "pct_three"]
    assert (barrett["fatigue_score"], barrett["shot_zone_mismatch_score"], barrett["pace_score"],
            barrett["usage_spike_score"]) == (100.0, 0.0, 0.0, 0.0)
    # the day's TDZA holds only NYK (110, 101); the day's PSZA only Tatum (30/20/50)
    assert (barrett["opponent_def_rating"], barrett["opponent_pace"]) == (110.0, 101.0)
    assert (barrett["pct_paint"], barrett["pct_mid_range"], barrett["pct_three"]) == (0.30, 0.20, 0.50)
    # Barrett rests 3 days; BOS played 11-19 → 0 days; 3 − 0 = 3 (inside the ±3 clamp)
    assert (barrett["rest_advantage"], barrett["home_away"], barrett["back_to_back"]) == (3.0, 0.0, 0.0)
    assert barrett["recent_trend"] == pytest.approx(14 - 14)
    assert barrett["historical_completeness"]["is_complete"] is True
    assert barrett["is_production_ready"] is False  # defaults used

    failed = failures(hand, "MLFeatureStoreProcessor")
    assert {k: (f["failure_category"], f["can_retry"]) for k, f in failed.items()} == {
        "alhorford": ("MISSING_DEPENDENCY", True), "juliusrandle": ("MISSING_DEPENDENCY", True)}
    assert failed["alhorford"]["failure_reason"] == "no PDC row for alhorford on 2021-11-20"
    assert "actual_points" not in tatum


def test_bootstrap_days_are_skipped(hand):
    hand.con.execute("INSERT INTO nba_raw.nbac_schedule (game_date, game_id, season, home_team_abbr, "
                     "away_team_abbr, game_status) VALUES ('2021-10-25', 'G00', '2021-22', 'BOS', 'NYK', 3)")
    for alias in OUTPUTS:
        result = run(hand, alias, (date(2021, 10, 25), date(2021, 10, 26)))  # 10-26 has no game
        assert [(r.data_date, r.status, r.skip_reason) for r in result.rows] == [
            (date(2021, 10, 25), "skipped", "bootstrap")]


# ---------------------------------------------------------------- the synthetic league

START, END = date(2021, 10, 19), date(2021, 12, 15)


@pytest.fixture(scope="module")
def league(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("league")
    scrape_synthetic(root / "landing", START, END, LeagueConfig(seed=3, teams=4, players_per_team=8))
    wh = Warehouse(root / "t.duckdb", catalog())
    reg = registry()
    run_specs(wh, reg.phase(2) + reg.phase(3) + reg.phase(4), days(START, END), BACKFILL,
              {"landing": root / "landing"})
    yield wh
    wh.close()


def test_every_expected_player_is_a_record_or_a_failure(league):
    game_dates = [r[0] for r in league.con.execute(
        "SELECT DISTINCT game_date FROM nba_raw.nbac_schedule WHERE game_date BETWEEN ? AND ? ORDER BY 1",
        [START, END]).fetchall()]
    expected = defaultdict(set)
    for d, lookup in league.con.execute(
            "SELECT game_date, player_lookup FROM nba_analytics.upcoming_player_game_context").fetchall():
        expected[d].add(lookup)
    for alias, (table, column) in OUTPUTS.items():
        spec = registry().get(alias)
        ledger = {r["data_date"]: r for r in rows(
            league, "SELECT * FROM nba_reference.processor_run_history WHERE processor_name = ?", [spec.name])}
        records, failed = defaultdict(list), defaultdict(list)
        for d, lookup in league.con.execute(f"SELECT {column}, player_lookup FROM {table}").fetchall():
            records[d].append(lookup)
        for d, lookup in league.con.execute(
                f"SELECT analysis_date, entity_id FROM {FAILURES} WHERE processor_name = ?", [spec.name]).fetchall():
            failed[d].append(lookup)
        assert sum(len(v) for v in records.values()) > 100, alias
        for d in game_dates:
            if is_bootstrap(d):
                assert (ledger[d]["status"], ledger[d]["skip_reason"]) == ("skipped", "bootstrap")
                assert not records[d] and not failed[d]
                continue
            assert ledger[d]["status"] == "success"
            assert len(records[d]) == len(set(records[d])) and len(failed[d]) == len(set(failed[d]))
            assert not set(records[d]) & set(failed[d]), (alias, d)
            assert set(records[d]) | set(failed[d]) == expected[d], (alias, d)


def test_pcf_inputs_follow_the_prior_windows_and_usage_varies(league):
    pgs = defaultdict(list)
    for person, d, usage in league.con.execute(
            "SELECT person_id, game_date, usage_rate FROM nba_analytics.player_game_summary").fetchall():
        pgs[person].append((d, usage))
    pcf = rows(league, f"SELECT * FROM {PCF}")
    ctx = {(c["person_id"], c["game_date"]): c
           for c in rows(league, "SELECT * FROM nba_analytics.upcoming_player_game_context")}
    for r in pcf:
        c = ctx[(r["person_id"], r["game_date"])]
        prior = [u for d, u in sorted(pgs[r["person_id"]], reverse=True) if d < r["game_date"]]
        assert r["usage_avg_last_3"] == pytest.approx(sum(prior[:3]) / len(prior[:3]), abs=1e-6)
        assert r["usage_avg_last_10"] == pytest.approx(sum(prior[:10]) / len(prior[:10]), abs=1e-6)
        spike = max(-3.0, min(3.0, 0.3 * (r["usage_avg_last_3"] - r["usage_avg_last_10"])))
        assert r["usage_spike_score"] == pytest.approx(spike, abs=1e-5)
        fatigue = 100 - 15 * c["back_to_back"] - 5 * max(0, c["games_in_last_7_days"] - 2) \
            - 0.2 * max(0.0, c["minutes_in_last_7_days"] - 100)
        assert r["fatigue_score"] == pytest.approx(max(0.0, min(100.0, fatigue)), abs=1e-5)
        total = r["shot_zone_mismatch_score"] + r["pace_score"] + r["usage_spike_score"] \
            + 0.05 * (r["fatigue_score"] - 100)
        assert r["total_composite_adjustment"] == pytest.approx(total, abs=1e-5)
    spikes = {r["usage_spike_score"] for r in pcf}
    assert len(spikes) > len(pcf) // 2 and min(spikes) < 0 < max(spikes)


def test_pdc_season_and_team_windows(league):
    pgs = defaultdict(list)
    for person, d, points in league.con.execute(
            "SELECT person_id, game_date, points FROM nba_analytics.player_game_summary").fetchall():
        pgs[person].append((d, points))
    wins = defaultdict(list)
    for team, d, win in league.con.execute(
            "SELECT team_abbr, game_date, win FROM nba_analytics.team_offense_game_summary").fetchall():
        wins[team].append((d, win))
    pdc = rows(league, f"SELECT * FROM {PDC}")
    assert len(pdc) > 100
    for r in pdc:
        prior = [p for d, p in sorted(pgs[r["person_id"]], reverse=True) if d < r["cache_date"]]
        assert r["games_played_season"] == len(prior) == r["historical_completeness"]["games_found"]
        assert r["points_avg_season"] == pytest.approx(sum(prior) / len(prior), abs=1e-6)
        assert r["points_avg_last_5"] == pytest.approx(sum(prior[:5]) / 5, abs=1e-6)
        assert r["points_avg_last_10"] == pytest.approx(sum(prior[:10]) / len(prior[:10]), abs=1e-6)
        team = [w for d, w in wins[r["team_abbr"]] if d < r["cache_date"]]
        assert r["team_win_pct_season"] == pytest.approx(sum(team) / len(team), abs=1e-6)
    assert any(r["games_played_season"] > 10 for r in pdc)


def test_mlfs_production_ready_rule_and_copies_of_upstream(league):
    joined = rows(league, f"""
            SELECT m.*, p.points_avg_last_10 AS pdc_points, f.usage_spike_score AS pcf_usage
            FROM {MLFS} m JOIN {PDC} p ON p.cache_date = m.game_date AND p.person_id = m.person_id
            LEFT JOIN {PCF} f ON f.game_date = m.game_date AND f.person_id = m.person_id""")
    for r in joined:
        hc = r["historical_completeness"]
        assert r["is_production_ready"] == (
            hc["is_complete"] and r["games_played_season"] >= 5 and not r["default_features"])
        assert r["points_avg_last_10"] == r["pdc_points"]
        if r["pcf_usage"] is None:
            assert "usage_spike_score" in r["default_features"] and r["usage_spike_score"] == 0.0
        else:
            assert r["usage_spike_score"] == r["pcf_usage"]
        assert -3 <= r["rest_advantage"] <= 3
    ready = league.con.execute(f"SELECT count(*) FILTER (WHERE is_production_ready), count(*) FROM {MLFS}").fetchone()
    assert 0 < ready[0] < ready[1]
    assert len(joined) == ready[1]  # every MLFS record has its PDC row


def contents(wh: Warehouse, table: str, column: str, op: str, d: date) -> list[tuple]:
    meta = "run_id, created_at" if table == FAILURES else "run_id, processed_at"
    return wh.con.execute(f"SELECT * EXCLUDE ({meta}) FROM {table} WHERE {column} {op} ? ORDER BY ALL",
                          [d]).fetchall()


def test_changing_a_game_changes_no_record_dated_on_or_before_it(league, tmp_path):
    league.con.execute("CHECKPOINT")
    shutil.copy(league.path, tmp_path / "copy.duckdb")
    wh = Warehouse(tmp_path / "copy.duckdb", catalog())
    try:
        d = wh.con.execute("SELECT min(game_date) FROM nba_analytics.player_game_summary "
                           "WHERE game_date >= '2021-11-24'").fetchone()[0]
        tables = dict(OUTPUTS.values())
        before = {t: contents(wh, t, c, "<=", d) for t, c in tables.items()}
        after_d = {t: contents(wh, t, c, ">", d) for t, c in tables.items()}
        failures_before = contents(wh, FAILURES, "analysis_date", "<=", d)
        wh.con.execute("UPDATE nba_analytics.player_game_summary SET points = points + 30, minutes = minutes + 12, "
                       "usage_rate = usage_rate + 15, ftm = ftm + 3 WHERE game_date = ?", [d])
        reg = registry()
        run_specs(wh, [reg.get("upgc")] + reg.phase(4), days(START, END), BACKFILL)
        for t, c in tables.items():
            assert contents(wh, t, c, "<=", d) == before[t], t
            assert contents(wh, t, c, ">", d) != after_d[t], t  # the change did reach later records
        assert contents(wh, FAILURES, "analysis_date", "<=", d) == failures_before
    finally:
        wh.close()
