"""validate coverage: every expected entity of a phase 4 date is a record or a tracked failure.

Built on the real NBA.com box-score bundle (2021-22 through 2021-11-30). Expected entities
are recomputed here from the CSV files with the csv module, not with fullcourt's SQL.
"""
from __future__ import annotations

import csv
import gzip
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fullcourt import api
from fullcourt.cli import app

from realdata import BOXSCORES, build_box_store, require  # noqa: E402

require(BOXSCORES)
REAL = BOXSCORES
START, END = date(2021, 10, 19), date(2021, 11, 20)
PSZA = "PlayerShotZoneAnalysisProcessor"
TDZA = "TeamDefenseZoneAnalysisProcessor"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_box_store(tmp_path_factory.mktemp("coverage"), START, END)


def appeared_before(d: date) -> set[int]:
    """PLAYER_IDs with a regular-season row with minutes > 0:00 before d, from the CSVs."""
    with gzip.open(next(REAL.glob("games_2*.csv.gz")), "rt", newline="") as f:
        game_date = {r["GAME_ID"]: date.fromisoformat(r["GAME_DATE_EST"]) for r in csv.DictReader(f)
                     if r["GAME_ID"].startswith("2")}
    with gzip.open(next(REAL.glob("games_details*.csv.gz")), "rt", newline="") as f:
        return {int(r["PLAYER_ID"]) for r in csv.DictReader(f)
                if r["GAME_ID"] in game_date and game_date[r["GAME_ID"]] < d and r["MIN"]
                and r["MIN"] not in ("0:00", "00:00")}


def copy_of(store: Path, tmp_path: Path) -> Path:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(store.read_bytes())
    return db


def test_a_complete_build_has_no_untracked_entity(store):
    cov = api.validate_coverage(store, START, END, reconcile=True)
    assert cov.ok, cov.to_dict()
    by = {p.processor: p for p in cov.processors}
    assert set(by) == {PSZA, TDZA, "PlayerCompositeFactorsProcessor", "PlayerDailyCacheProcessor",
                       "MLFeatureStoreProcessor"}
    for p in cov.processors:
        assert p.dates > 0 and p.expected == p.records + p.failures and p.untracked_count == 0, p.to_dict()
    d = date(2021, 11, 15)
    with api.open_warehouse(store) as wh:
        on_d = wh.con.execute(
            "SELECT (SELECT count(*) FROM nba_precompute.player_shot_zone_analysis WHERE analysis_date = ?) + "
            "(SELECT count(*) FROM nba_processing.precompute_failures WHERE processor_name = ? AND analysis_date = ?)",
            [d, PSZA, d]).fetchone()[0]
    assert on_d == len(appeared_before(d))
    assert by[TDZA].expected == 30 * by[TDZA].dates


def test_a_lost_record_is_untracked_and_the_command_exits_1(store, tmp_path):
    db = copy_of(store, tmp_path)
    d = date(2021, 11, 15)
    with api.open_warehouse(db) as wh:
        lookup = wh.con.execute(
            "SELECT player_lookup FROM nba_precompute.player_shot_zone_analysis WHERE analysis_date = ? "
            "ORDER BY player_lookup LIMIT 1", [d]).fetchone()[0]
        wh.con.execute("DELETE FROM nba_precompute.player_shot_zone_analysis WHERE analysis_date = ? "
                       "AND player_lookup = ?", [d, lookup])
    cov = api.validate_coverage(db, START, END)
    psza = next(p for p in cov.processors if p.processor == PSZA)
    assert not cov.ok and psza.untracked_count == 1 and psza.untracked == [(d, lookup)]
    result = CliRunner().invoke(app, ["validate", "coverage", "--start-date", str(START), "--end-date", str(END),
                                      "--db", str(db)])
    assert result.exit_code == 1
    assert f"UNTRACKED {PSZA} {d} {lookup}" in result.output


def test_reconcile_finds_a_ledger_that_disagrees_with_the_tables(store, tmp_path):
    db = copy_of(store, tmp_path)
    d = date(2021, 11, 16)
    with api.open_warehouse(db) as wh:
        wh.con.execute("UPDATE nba_reference.processor_run_history SET records_failed = records_failed + 1 "
                       "WHERE processor_name = ? AND data_date = ?", [TDZA, d])
    assert api.validate_coverage(db, START, END).ok  # without --reconcile the ledger is not read
    cov = api.validate_coverage(db, START, END, reconcile=True)
    tdza = next(p for p in cov.processors if p.processor == TDZA)
    assert not cov.ok and tdza.mismatched_dates == [d] and tdza.untracked_count == 0
    assert tdza.to_dict()["status"] == "MISMATCH"


def test_a_date_that_did_not_run_is_not_covered(store, tmp_path):
    """A phase 4 work date whose latest run was skipped (or never happened) fails coverage."""
    db = copy_of(store, tmp_path)
    skipped, never = date(2021, 11, 17), date(2021, 11, 18)
    with api.open_warehouse(db) as wh:
        wh.con.execute("UPDATE nba_reference.processor_run_history SET status = 'skipped', "
                       "skip_reason = 'upstream failed' WHERE processor_name = ? AND data_date = ?", [PSZA, skipped])
        wh.con.execute("DELETE FROM nba_reference.processor_run_history WHERE processor_name = ? AND data_date = ?",
                       [PSZA, never])
        wh.con.execute("DELETE FROM nba_precompute.player_shot_zone_analysis WHERE analysis_date = ?", [never])
        wh.con.execute("DELETE FROM nba_processing.precompute_failures WHERE processor_name = ? AND analysis_date = ?",
                       [PSZA, never])
    cov = api.validate_coverage(db, START, END)
    psza = next(p for p in cov.processors if p.processor == PSZA)
    assert not cov.ok and psza.status == "UNTRACKED"
    assert psza.not_succeeded == {skipped: "skipped", never: "never run"}
    assert psza.untracked_count == len(appeared_before(never))  # every expected entity of the never-run date
    others = [p for p in cov.processors if p.processor != PSZA]
    assert all(p.ok for p in others)


def test_a_range_without_phase_4_work_is_not_a_pass(store):
    cov = api.validate_coverage(store, date(2021, 10, 1), date(2021, 10, 25))  # before and in the bootstrap days
    assert cov.empty and not cov.ok
    result = CliRunner().invoke(app, ["validate", "coverage", "--start-date", "2021-10-01", "--end-date", "2021-10-25",
                                      "--db", str(store)])
    assert result.exit_code == 1 and "Nothing to validate" in result.output
    assert "OK" not in result.output  # no processor is marked OK on a range with nothing to check
