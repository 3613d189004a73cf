"""Phase 3 on the hand fixture: every expected value is worked out by hand from
handfixture.PLAYERS / SHOTS and written as literal arithmetic (never by re-running the SQL).

Hand sums (columns: fgm fga fg3m fg3a ftm fta oreb tov, points = 2·(fgm−fg3m) + 3·fg3m + ftm):
  Tatum     10 20 3 8 5 6 1 3   points 2·7 + 9 + 5 = 28
  Horford    5 10 1 4 2 2 2 1   points 2·4 + 3 + 2 = 13
  Barrett    8 16 2 6 4 4 0 2   points 2·6 + 6 + 4 = 22
  Porziņģis  4  9 0 1 1 2 2 1   points 2·4 + 0 + 1 = 9
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fullcourt.engine.runner import RunOptions, run_specs
from fullcourt.engine.warehouse import Warehouse
from fullcourt.nba.pipeline import catalog, registry
from handfixture import G1, G3, write_hand_fixture

D1, D2 = date(2021, 11, 1), date(2021, 11, 2)

# possessions = FGA + 0.44·FTA + TOV − OREB, from the hand sums above
BOS_POSS = (20 + 10) + 0.44 * (6 + 2) + (3 + 1) - (1 + 2)
NYK_POSS = (16 + 9) + 0.44 * (4 + 2) + (2 + 1) - (0 + 2)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The hand fixture run through phases 2 and 3 once: (warehouse, results by processor)."""
    root: Path = tmp_path_factory.mktemp("hand")
    write_hand_fixture(root / "landing")
    wh = Warehouse(root / "t.duckdb", catalog())
    reg = registry()
    results = run_specs(wh, reg.phase(2) + reg.phase(3), [D1, D2], RunOptions(backfill_mode=True),
                        {"landing": root / "landing"})
    yield wh, {r.processor: r for r in results}
    wh.close()


def rows(wh: Warehouse, sql: str, params: list | None = None) -> list[dict]:
    cur = wh.con.execute(sql, params or [])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def one(wh: Warehouse, sql: str, params: list | None = None) -> dict:
    found = rows(wh, sql, params)
    assert len(found) == 1, found
    return found[0]


def offense(wh: Warehouse, team: str) -> dict:
    return one(wh, "SELECT * FROM nba_analytics.team_offense_game_summary WHERE game_id = ? AND team_abbr = ?",
               [G1, team])


def defense(wh: Warehouse, team: str) -> dict:
    return one(wh, "SELECT * FROM nba_analytics.team_defense_game_summary WHERE game_id = ? "
                   "AND defending_team_abbr = ?", [G1, team])


def player(wh: Warehouse, person_id: int) -> dict:
    return one(wh, "SELECT * FROM nba_analytics.player_game_summary WHERE person_id = ?", [person_id])


def test_team_totals_are_the_sums_of_the_players(run):
    wh, _ = run
    bos, nyk = offense(wh, "BOS"), offense(wh, "NYK")
    assert (bos["points"], bos["fgm"], bos["fga"], bos["fg3m"], bos["fg3a"], bos["ftm"], bos["fta"],
            bos["oreb"], bos["tov"]) == (28 + 13, 10 + 5, 20 + 10, 3 + 1, 8 + 4, 5 + 2, 6 + 2, 1 + 2, 3 + 1)
    assert (nyk["points"], nyk["fgm"], nyk["fga"], nyk["fg3m"], nyk["fg3a"], nyk["ftm"], nyk["fta"],
            nyk["oreb"], nyk["tov"]) == (22 + 9, 8 + 4, 16 + 9, 2 + 0, 6 + 1, 4 + 1, 4 + 2, 0 + 2, 2 + 1)
    assert bos["minutes"] == 240.0 and nyk["minutes"] == 240.0
    assert (bos["opponent_team_abbr"], bos["is_home"], nyk["opponent_team_abbr"], nyk["is_home"]) == (
        "NYK", True, "BOS", False)


def test_team_offense_possessions_ratings_pace_and_win(run):
    wh, _ = run
    bos, nyk = offense(wh, "BOS"), offense(wh, "NYK")
    assert bos["possessions"] == pytest.approx(30 + 0.44 * 8 + 4 - 3)
    assert nyk["possessions"] == pytest.approx(25 + 0.44 * 6 + 3 - 2)
    assert bos["offensive_rating"] == pytest.approx(100 * 41 / BOS_POSS, abs=1e-5)
    assert nyk["offensive_rating"] == pytest.approx(100 * 31 / NYK_POSS, abs=1e-5)
    pace = 48 * ((BOS_POSS + NYK_POSS) / 2) / (240 / 5)
    assert bos["pace"] == pytest.approx(pace, abs=1e-5)
    assert nyk["pace"] == pytest.approx(pace, abs=1e-5)
    assert (bos["win"], nyk["win"]) == (True, False)


def test_team_defense_ratings_and_opponent_zones(run):
    wh, _ = run
    bos, nyk = defense(wh, "BOS"), defense(wh, "NYK")
    # BOS defends NYK's possessions and points
    assert bos["points_allowed"] == 22 + 9
    assert bos["possessions"] == pytest.approx(NYK_POSS)
    assert bos["defensive_rating"] == pytest.approx(100 * 31 / NYK_POSS, abs=1e-5)
    assert nyk["defensive_rating"] == pytest.approx(100 * 41 / BOS_POSS, abs=1e-5)
    assert bos["pace"] == pytest.approx(48 * ((BOS_POSS + NYK_POSS) / 2) / (240 / 5), abs=1e-5)
    assert (bos["opp_fgm"], bos["opp_fga"], bos["opp_fg3m"], bos["opp_fg3a"], bos["opp_ftm"], bos["opp_fta"]) == (
        8 + 4, 16 + 9, 2 + 0, 6 + 1, 4 + 1, 4 + 2)
    # NYK's shots: Barrett paint 5 ft 4/6, mid 12 ft 2/4, three 2/6; Porziņģis paint 8.0 ft 4/8, three 0/1
    assert (bos["opp_paint_makes"], bos["opp_paint_attempts"]) == (4 + 4, 6 + 8)
    assert (bos["opp_mid_range_makes"], bos["opp_mid_range_attempts"]) == (2, 4)
    assert (bos["opp_three_makes"], bos["opp_three_attempts"]) == (2 + 0, 6 + 1)
    # BOS's shots seen from NYK: Tatum paint 5/7 mid 2/5 three 3/8; Horford paint 3/4 mid 1/2 three 1/4
    assert (nyk["opp_paint_makes"], nyk["opp_paint_attempts"]) == (5 + 3, 7 + 4)
    assert (nyk["opp_mid_range_makes"], nyk["opp_mid_range_attempts"]) == (2 + 1, 5 + 2)
    assert (nyk["opp_three_makes"], nyk["opp_three_attempts"]) == (3 + 1, 8 + 4)


def test_player_game_summary_tatum(run):
    wh, _ = run
    t = player(wh, 1)
    assert (t["player_lookup"], t["team_abbr"], t["opponent_team_abbr"], t["season"]) == (
        "jaysontatum", "BOS", "NYK", "2021-22")
    assert t["points"] == 2 * (10 - 3) + 3 * 3 + 5 == 28
    assert t["minutes"] == 36.0
    assert (t["paint_makes"], t["paint_attempts"]) == (5, 5 + 2)  # 2PT at 3.0 ft
    assert (t["mid_range_makes"], t["mid_range_attempts"]) == (2, 2 + 3)  # 2PT at 15.0 ft
    assert (t["three_makes"], t["three_attempts"]) == (3, 3 + 5)
    usage = 100 * (20 + 0.44 * 6 + 3) * (240 / 5) / (36 * ((20 + 10) + 0.44 * (6 + 2) + (3 + 1)))
    assert t["usage_rate"] == pytest.approx(usage, abs=1e-5)
    assert t["ts_pct"] == pytest.approx(28 / (2 * (20 + 0.44 * 6)), abs=1e-6)


def test_player_game_summary_porzingis_and_russell(run):
    wh, _ = run
    kp = player(wh, 4)
    assert kp["minutes"] == pytest.approx(25 + 30 / 60)
    assert kp["player_lookup"] == "kristapsporzingis"
    assert kp["player_name"] == "Kristaps Porziņģis"
    # the 8.0 ft 2PT shots are paint (within 8 ft inclusive)
    assert (kp["paint_makes"], kp["paint_attempts"]) == (4, 4 + 4)
    assert (kp["mid_range_makes"], kp["mid_range_attempts"]) == (0, 0)
    assert (kp["three_makes"], kp["three_attempts"]) == (0, 1)
    dlo = player(wh, 5)
    assert dlo["player_lookup"] == "dangelorussell"
    assert (dlo["team_abbr"], dlo["opponent_team_abbr"], dlo["points"]) == ("LAL", "GSW", 2 * (6 - 2) + 3 * 2 + 3)


def test_upcoming_context_after_a_failed_scrape_day(run):
    wh, _ = run
    ctx = rows(wh, "SELECT * FROM nba_analytics.upcoming_player_game_context ORDER BY person_id")
    assert [(r["game_date"], r["game_id"], r["person_id"]) for r in ctx] == [(D2, G3, 5), (D2, G3, 6)]
    russell, payton = ctx
    # G3 is GSW (home) against LAL
    assert (russell["player_lookup"], russell["team_abbr"], russell["opponent_team_abbr"], russell["is_home"]) == (
        "dangelorussell", "LAL", "GSW", False)
    assert (payton["player_lookup"], payton["team_abbr"], payton["opponent_team_abbr"], payton["is_home"]) == (
        "garypaytonii", "GSW", "LAL", True)
    for r in ctx:
        assert r["last_game_date"] == D1
        assert r["back_to_back"] is True
        assert r["days_rest"] == 0
        assert r["games_in_last_7_days"] == 1
    assert russell["minutes_in_last_7_days"] == 30.0
    assert payton["minutes_in_last_7_days"] == 20.0


def test_outage_day_fails_phase_2_with_date_and_remedy(run):
    _, by_name = run
    for name in ("NbacPlayerBoxscoreProcessor", "NbacTeamBoxscoreProcessor"):
        result = by_name[name]
        assert result.failed == [D2]
        (row,) = [r for r in result.rows if r.data_date == D2]
        assert row.records_created == 0
        (line,) = row.errors
        assert "2021-11-02" in line
        assert "fullcourt scrape --start-date 2021-11-02 --end-date 2021-11-02" in line
        assert [r.status for r in result.rows if r.data_date == D1] == ["success"]


def test_gamebook_lists_derrick_rose_as_dnp_with_reason(run):
    wh, _ = run
    rose = one(wh, "SELECT * FROM nba_raw.nbac_gamebook")
    assert (rose["game_date"], rose["game_id"], rose["person_id"], rose["player_lookup"], rose["team_abbr"]) == (
        D1, G1, 7, "derrickrose", "NYK")
    assert rose["status"] == "DNP"
    assert rose["reason"] == "DNP - Injury/Illness - Right Ankle; Sprain"
