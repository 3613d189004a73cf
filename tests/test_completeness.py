"""Schedule-based completeness and strictly-prior windows on a small synthetic league.

Expected sets are computed here in Python from the stored phase 3 rows, independently of the
processors' SQL.
"""
from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from fullcourt.engine.runner import RunOptions, run_specs
from fullcourt.engine.warehouse import Warehouse
from fullcourt.dates import date_range as days
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic

START, END = date(2021, 10, 19), date(2021, 12, 12)
CONFIG = LeagueConfig(seed=11, teams=4, players_per_team=8)


def build(path: Path, landing: Path) -> Warehouse:
    wh = Warehouse(path, catalog())
    reg = registry()
    run_specs(wh, reg.phase(2) + reg.phase(3) + reg.phase(4), days(START, END), RunOptions(backfill_mode=True),
              {"landing": landing})
    return wh


@pytest.fixture(scope="module")
def league(tmp_path_factory):
    root = tmp_path_factory.mktemp("league")
    scrape_synthetic(root / "landing", START, END, CONFIG)
    return root


@pytest.fixture(scope="module")
def gapped(league):
    """The same league with one mid-November game missing upstream."""
    full = Warehouse(league / "probe.duckdb", catalog())
    run_specs(full, registry().phase(2), days(START, END), RunOptions(backfill_mode=True),
              {"landing": league / "landing"})
    gid, gdate, home, away = full.con.execute(
        "SELECT game_id, game_date, home_team_abbr, away_team_abbr FROM nba_raw.nbac_schedule "
        "WHERE game_date >= DATE '2021-11-20' ORDER BY game_date, game_id LIMIT 1").fetchone()
    full.close()
    landing = league / "landing_gap"
    shutil.copytree(league / "landing", landing)
    for kind in ("boxscore", "gamebook", "shots"):
        (landing / gdate.isoformat() / f"{kind}_{gid}.json").unlink()
    wh = build(league / "gap.duckdb", landing)
    yield wh, gid, gdate, (home, away)
    wh.close()


def appearances(wh) -> dict[int, list[tuple[date, str]]]:
    out: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for pid, d, team in wh.con.execute(
        "SELECT person_id, game_date, team_abbr FROM nba_analytics.player_game_summary ORDER BY game_date"
    ).fetchall():
        out[pid].append((d, team))
    return out


def test_a_missing_game_marks_exactly_the_player_windows_that_span_it(gapped):
    wh, _, gdate, teams = gapped
    apps = appearances(wh)
    season_start = wh.con.execute("SELECT min(game_date) FROM nba_raw.nbac_schedule").fetchone()[0]
    expected, actual = set(), set()
    for pid, d, missing in wh.con.execute(
        "SELECT person_id, analysis_date, historical_completeness.missing_game_dates "
        "FROM nba_precompute.player_shot_zone_analysis").fetchall():
        assert set(missing) <= {gdate}, "no other game is missing"
        if gdate in missing:
            actual.add((pid, d))
        before = [a for a in apps[pid] if a[0] < d]
        window = before[-10:]
        span_start = window[0][0] if len(window) == 10 else season_start
        team_then = [t for (x, t) in before if x <= gdate]
        if span_start <= gdate < d and team_then and team_then[-1] in teams:
            expected.add((pid, d))
    assert actual == expected
    assert len(actual) > 10  # the gap matters to many records
    incomplete = wh.con.execute(
        "SELECT count(*) FROM nba_precompute.player_shot_zone_analysis WHERE NOT historical_completeness.is_complete"
    ).fetchone()[0]
    assert incomplete == len(actual)


def test_a_missing_game_marks_exactly_the_team_windows_that_span_it(gapped):
    wh, _, gdate, teams = gapped
    games: dict[str, list[date]] = defaultdict(list)
    for team, d in wh.con.execute(
        "SELECT defending_team_abbr, game_date FROM nba_analytics.team_defense_game_summary ORDER BY game_date"
    ).fetchall():
        games[team].append(d)
    n = spanning = 0
    for team, d, missing, reason in wh.con.execute(
        "SELECT team_abbr, analysis_date, historical_completeness.missing_game_dates, "
        "historical_completeness.incompleteness_reason FROM nba_precompute.team_defense_zone_analysis").fetchall():
        window = [x for x in games[team] if x < d][-15:]
        spans = team in teams and window[0] <= gdate < d
        assert (gdate in missing) == spans, (team, d)
        assert (reason == "upstream_gap") == spans
        n += 1
        spanning += spans
    assert 0 < spanning < n


def test_every_expected_entity_is_a_record_or_a_failure(gapped):
    wh, *_ = gapped
    reg = registry()
    for spec in reg.phase(4):
        rows = wh.con.execute(
            f"""SELECT l.data_date, l.records_created, l.records_failed,
                       (SELECT count(*) FROM {spec.output_table} o WHERE o.{spec.date_column} = l.data_date),
                       (SELECT count(*) FROM nba_processing.precompute_failures f
                         WHERE f.processor_name = l.processor_name AND f.analysis_date = l.data_date)
                FROM nba_reference.processor_run_history l
                WHERE l.processor_name = ? AND l.status = 'success'""", [spec.name]).fetchall()
        assert rows, spec.name
        for d, created, failed, n_out, n_fail in rows:
            assert (created, failed) == (n_out, n_fail), (spec.name, d)
        # expected entities, computed independently: PSZA = players with an earlier appearance in season
        if spec.name == "PlayerShotZoneAnalysisProcessor":
            for d, _, _, n_out, n_fail in rows:
                n = wh.con.execute("SELECT count(DISTINCT person_id) FROM nba_analytics.player_game_summary "
                                   "WHERE game_date < ?", [d]).fetchone()[0]
                assert n_out + n_fail == n, d
        if spec.name == "TeamDefenseZoneAnalysisProcessor":
            assert all(n_out + n_fail == CONFIG.teams for _, _, _, n_out, n_fail in rows)


def test_changing_a_day_changes_no_record_dated_that_day_or_earlier(league):
    wh = build(league / "lookahead.duckdb", league / "landing")
    reg = registry()
    d = date(2021, 11, 24)
    tables = [(s.output_table, s.date_column) for s in reg.phase(4)]

    def snapshot():
        return {t: wh.con.execute(f"SELECT * EXCLUDE (run_id, processed_at) FROM {t} ORDER BY ALL").fetchall()
                for t, _ in tables}

    def split(rows, col_idx, upto):
        return [r for r in rows if r[col_idx] <= upto], [r for r in rows if r[col_idx] > upto]

    before = snapshot()
    wh.con.execute("UPDATE nba_analytics.player_game_summary SET points = points + 7, paint_makes = paint_attempts, "
                   "usage_rate = usage_rate + 5, three_attempts = three_attempts + 3 WHERE game_date = ?", [d])
    wh.con.execute("UPDATE nba_analytics.team_defense_game_summary SET points_allowed = points_allowed + 30, "
                   "opp_paint_makes = opp_paint_attempts WHERE game_date = ?", [d])
    run_specs(wh, reg.phase(4), days(START, END), RunOptions(backfill_mode=True), {})
    after = snapshot()
    changed_later = 0
    for t, col in tables:
        idx = 0  # the date column is the first column of every phase 4 table
        b_upto, b_later = split(before[t], idx, d)
        a_upto, a_later = split(after[t], idx, d)
        assert b_upto == a_upto, f"{t}: a record dated <= {d} changed"
        changed_later += b_later != a_later
    assert changed_later >= 2  # and the change does reach later records
    wh.close()


def test_parallel_tdza_and_psza_equal_a_serial_run(league):
    from fullcourt.engine.runner import run_levels
    from fullcourt.engine.spec import levels

    reg = registry()
    stores = {}
    for mode in ("serial", "parallel"):
        wh = Warehouse(league / f"{mode}.duckdb", catalog())
        run_specs(wh, reg.phase(2) + reg.phase(3), days(START, END), RunOptions(backfill_mode=True),
                  {"landing": league / "landing"})
        plan = levels(reg, reg.phase(4))
        assert {s.name for s in plan[0]} == {"TeamDefenseZoneAnalysisProcessor", "PlayerShotZoneAnalysisProcessor"}
        run_levels(wh, plan, days(START, END), RunOptions(backfill_mode=True), {}, 1 if mode == "serial" else 2)
        stores[mode] = {
            s.output_table: wh.con.execute(
                f"SELECT * EXCLUDE (run_id, processed_at) FROM {s.output_table} ORDER BY ALL").fetchall()
            for s in reg.phase(4)
        }
        stores[mode]["failures"] = wh.con.execute(
            "SELECT * EXCLUDE (run_id, created_at) FROM nba_processing.precompute_failures ORDER BY ALL").fetchall()
        wh.close()
    assert stores["serial"] == stores["parallel"]
    assert len(stores["serial"]["nba_precompute.player_shot_zone_analysis"]) > 100
