"""Phase 4 TDZA and PSZA: hand-checked windows, strictly-prior reads, schedule-based completeness."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from fullcourt.engine.runner import RunOptions, run_processor
from fullcourt.nba.pipeline import registry

D = date(2021, 11, 15)  # season day 27: past the bootstrap
BOS_GAMES = [date(2021, 10, 30)] + [date(2021, 11, k) for k in range(1, 11)] + [date(2021, 11, 12), D]
ABSENT = date(2021, 11, 12)


def schedule_rows(wh) -> None:
    rows = [(date(2021, 10, 19), "G0019", "LAL", "GSW")]
    rows += [(d, f"G{d:%m%d}", "BOS", "NYK") for d in BOS_GAMES]
    for d, gid, home, away in rows:
        wh.con.execute(
            "INSERT INTO nba_raw.nbac_schedule (game_date, game_id, season, home_team_abbr, away_team_abbr, "
            "game_status) VALUES (?, ?, '2021-22', ?, ?, 3)", [d, gid, home, away])


def pgs(wh, d: date, pid: int, team: str, zones: tuple[int, int, int, int, int, int]) -> None:
    """Insert a player-game: zones = (paint made, paint att, mid made, mid att, three made, three att)."""
    pm, pa, mm, ma, tm, ta = zones
    fga, fgm = pa + ma + ta, pm + mm + tm
    wh.con.execute(
        """INSERT INTO nba_analytics.player_game_summary (game_date, game_id, season, person_id, player_lookup,
           player_name, team_abbr, opponent_team_abbr, is_home, minutes, points, fgm, fga, fg3m, fg3a,
           paint_makes, paint_attempts, mid_range_makes, mid_range_attempts, three_makes, three_attempts)
           VALUES (?, ?, '2021-22', ?, ?, ?, ?, ?, ?, 30, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [d, f"G{d:%m%d}", pid, f"player{pid}", f"Player {pid}", team, "NYK" if team == "BOS" else "BOS",
         team == "BOS", 2 * (fgm - tm) + 3 * tm, fgm, fga, tm, ta, pm, pa, mm, ma, tm, ta])


@pytest.fixture
def hand(wh):
    """Player 1 (BOS): an old game of all missed threes, then 10 games of (2/4 paint, 1/2 mid, 1/4 three),
    then a wild game ON the analysis date. Player 2 (NYK): 3 games. Player 3 (NYK): 9 games. Player 4
    (NYK): 10 games without a shot. BOS-NYK on 2021-11-12 is scheduled but absent upstream."""
    schedule_rows(wh)
    pgs(wh, date(2021, 10, 30), 1, "BOS", (0, 0, 0, 0, 0, 10))
    for k in range(1, 11):
        pgs(wh, date(2021, 11, k), 1, "BOS", (2, 4, 1, 2, 1, 4))
    pgs(wh, D, 1, "BOS", (20, 20, 0, 0, 0, 0))
    for k in range(1, 4):
        pgs(wh, date(2021, 11, k), 2, "NYK", (1, 2, 0, 0, 0, 0))
    for k in range(2, 11):
        pgs(wh, date(2021, 11, k), 3, "NYK", (1, 2, 0, 0, 0, 0))
    pgs(wh, date(2021, 10, 30), 4, "NYK", (0, 0, 0, 0, 0, 0))
    for k in range(1, 10):
        pgs(wh, date(2021, 11, k), 4, "NYK", (0, 0, 0, 0, 0, 0))
    return wh


def run(wh, alias: str, dates: list[date]):
    return run_processor(wh, registry().get(alias), dates, RunOptions(backfill_mode=True))


def test_psza_window_is_the_last_ten_games_strictly_before_the_date(hand):
    result = run(hand, "psza", [D])
    assert [r.status for r in result.rows] == ["success"]
    row = hand.con.execute(
        "SELECT * FROM nba_precompute.player_shot_zone_analysis WHERE person_id = 1 AND analysis_date = ?", [D]
    ).fetchone()
    cols = [c[0] for c in hand.con.description]
    r = dict(zip(cols, row))
    # 10 games of 4 paint, 2 mid, 4 three attempts: 40 / 20 / 40 of 100 FGA; the Oct 30 game and the
    # game on D itself are outside the window.
    assert r["games_in_sample"] == 10 and r["fga_last_10"] == 100
    assert r["paint_rate_last_10"] == pytest.approx(100 * 40 / 100)
    assert r["mid_range_rate_last_10"] == pytest.approx(100 * 20 / 100)
    assert r["three_rate_last_10"] == pytest.approx(100 * 40 / 100)
    assert r["paint_pct_last_10"] == pytest.approx(20 / 40)
    assert r["three_pct_last_10"] == pytest.approx(10 / 40)
    assert r["paint_attempts_per_game"] == pytest.approx(4.0)
    assert r["primary_scoring_zone"] == "paint"  # tie with three: list order paint, mid_range, three
    assert r["paint_rate_last_20"] is None  # 11 games in season: no trend before 15
    hc = r["historical_completeness"]
    assert hc["contributing_game_dates"] == [date(2021, 11, k) for k in range(1, 11)]
    assert hc["missing_game_dates"] == [ABSENT]
    assert hc["is_complete"] is False and hc["incompleteness_reason"] == "upstream_gap"
    assert hc["games_found"] == 10 and hc["games_expected"] == 10 and hc["needs_reprocessing"] is False


def test_psza_failure_categories(hand):
    run(hand, "psza", [D])
    fails = dict(
        hand.con.execute(
            "SELECT entity_id, failure_category || '|' || can_retry FROM nba_processing.precompute_failures "
            "WHERE processor_name = 'PlayerShotZoneAnalysisProcessor' AND analysis_date = ?", [D]
        ).fetchall()
    )
    # player 2: 3 found + 1 missing < 10 -> the schedule could not have given him 10
    assert fails["player2"] == "EXPECTED_INCOMPLETE|false"
    # player 3: 9 found + 1 missing (NYK's absent game) = 10 -> a missing game cost him the record
    assert fails["player3"] == "INCOMPLETE_UPSTREAM|true"
    # player 4: 10 games, no field-goal attempt
    assert fails["player4"] == "NO_SHOT_ZONE|false"
    assert "player1" not in fails
    recs = hand.con.execute("SELECT count(*) FROM nba_precompute.player_shot_zone_analysis").fetchone()[0]
    assert recs + len(fails) == 4  # every expected player is a record or a failure


def test_tdza_short_window_categories(hand):
    for d, gid in [(g, f"G{g:%m%d}") for g in BOS_GAMES if g not in (ABSENT, D)]:
        for team, opp in (("BOS", "NYK"), ("NYK", "BOS")):
            hand.con.execute(
                "INSERT INTO nba_analytics.team_defense_game_summary (game_date, game_id, season, "
                "defending_team_abbr, opponent_team_abbr, is_home) VALUES (?, ?, '2021-22', ?, ?, ?)",
                [d, gid, team, opp, team == "BOS"])
    result = run(hand, "tdza", [D])
    assert result.rows[0].status == "success" and result.rows[0].records_created == 0
    fails = {
        e: (c, reason)
        for e, c, reason in hand.con.execute(
            "SELECT entity_id, failure_category, failure_reason FROM nba_processing.precompute_failures "
            "WHERE processor_name = 'TeamDefenseZoneAnalysisProcessor'").fetchall()
    }
    # 11 games found + 1 missing = 12 < 15: not enough even with the missing game
    assert fails["BOS"][0] == "INSUFFICIENT_DATA" and "missing upstream: 2021-11-12" in fails["BOS"][1]
    assert set(fails) == {"BOS", "NYK", "LAL", "GSW"}


def test_bootstrap_days_are_skipped_with_reason(hand):
    d = date(2021, 10, 30)  # season day 11
    result = run(hand, "psza", [d])
    assert [(r.status, r.skip_reason) for r in result.rows] == [("skipped", "bootstrap")]
    assert hand.con.execute("SELECT count(*) FROM nba_precompute.player_shot_zone_analysis").fetchone()[0] == 0


def test_tdza_values_worked_out_by_hand(wh):
    """15 BOS-NYK games (Oct 19 - Nov 2), analysis on Nov 5. Per game, BOS allows paint 5/10,
    mid 2/5, three 3/10, 100 points on 100 possessions at pace 98; NYK allows paint 6/10, mid 3/5,
    three 4/10, 110 points on 100 possessions at pace 102."""
    d = date(2021, 11, 5)
    games = [date(2021, 10, 19) + timedelta(days=k) for k in range(15)]
    for g in games + [d]:
        wh.con.execute("INSERT INTO nba_raw.nbac_schedule (game_date, game_id, season, home_team_abbr, "
                       "away_team_abbr, game_status) VALUES (?, ?, '2021-22', 'BOS', 'NYK', 3)", [g, f"G{g:%m%d}"])
    allowed = {"BOS": (5, 10, 2, 5, 3, 10, 100, 98.0), "NYK": (6, 10, 3, 5, 4, 10, 110, 102.0)}
    for g in games:
        for team, (pm, pa, mm, ma, tm, ta, pts, pace) in allowed.items():
            wh.con.execute(
                """INSERT INTO nba_analytics.team_defense_game_summary (game_date, game_id, season,
                   defending_team_abbr, opponent_team_abbr, is_home, points_allowed, opp_paint_makes,
                   opp_paint_attempts, opp_mid_range_makes, opp_mid_range_attempts, opp_three_makes,
                   opp_three_attempts, possessions, defensive_rating, pace)
                   VALUES (?, ?, '2021-22', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 100, ?, ?)""",
                [g, f"G{g:%m%d}", team, "NYK" if team == "BOS" else "BOS", team == "BOS", pts, pm, pa, mm, ma,
                 tm, ta, pts, pace])
    result = run(wh, "tdza", [d])
    assert result.rows[0].records_created == 2 and result.rows[0].records_failed == 0
    cur = wh.con.execute("SELECT * FROM nba_precompute.team_defense_zone_analysis WHERE team_abbr = 'BOS'")
    r = dict(zip([c[0] for c in cur.description], cur.fetchone()))
    assert r["games_in_sample"] == 15
    assert r["paint_pct_allowed"] == pytest.approx(75 / 150)
    assert r["mid_range_pct_allowed"] == pytest.approx(30 / 75)
    assert r["three_pct_allowed"] == pytest.approx(45 / 150)
    assert r["paint_attempts_allowed_per_game"] == pytest.approx(10.0)
    assert r["mid_range_attempts_allowed_per_game"] == pytest.approx(5.0)
    # league = both teams' pooled windows: paint 165/300, mid 75/150, three 105/300
    assert r["paint_vs_league"] == pytest.approx(100 * (75 / 150 - 165 / 300))
    assert r["mid_range_vs_league"] == pytest.approx(100 * (30 / 75 - 75 / 150))
    assert r["three_vs_league"] == pytest.approx(100 * (45 / 150 - 105 / 300))
    assert r["defensive_rating_last_15"] == pytest.approx(100 * 1500 / 1500)
    assert r["opponent_pace"] == pytest.approx(98.0)
    assert r["strongest_zone"] == "mid_range"  # −10 pp, the best relative to the league
    assert r["weakest_zone"] == "paint"  # −5 pp for paint and three; ties go to list order
    hc = r["historical_completeness"]
    assert hc["is_complete"] and hc["missing_game_dates"] == [] and hc["contributing_game_dates"] == games
