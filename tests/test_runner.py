"""The runner: reruns are idempotent, a crash inside the write leaves the store as it was,
and the registry's DAG order is deterministic."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fullcourt.engine import runner
from fullcourt.engine.runner import RunOptions, run_processor, run_specs
from fullcourt.engine.spec import Dependency, ProcessorSpec, Registry, same_date
from fullcourt.engine.warehouse import Warehouse
from fullcourt.nba.pipeline import registry
from handfixture import D1 as D1_TEXT, G1, dump, write_hand_fixture

D1, D2 = date(2021, 11, 1), date(2021, 11, 2)
LEDGER = "nba_reference.processor_run_history"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    write_hand_fixture(path)
    return path


def backfill(wh: Warehouse, landing: Path):
    reg = registry()
    return run_specs(wh, reg.phase(2) + reg.phase(3), [D1, D2], RunOptions(backfill_mode=True), {"landing": landing})


def data_tables(wh: Warehouse) -> list[str]:
    return [r[0] for r in wh.con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('nba_raw', 'nba_analytics') ORDER BY 1").fetchall()]


def contents(wh: Warehouse, table: str) -> list[tuple]:
    return wh.con.execute(f"SELECT * EXCLUDE (run_id, processed_at) FROM {table} ORDER BY ALL").fetchall()


def ledger_run_ids(wh: Warehouse) -> list[str]:
    return [r[0] for r in wh.con.execute(f"SELECT run_id FROM {LEDGER}").fetchall()]


def test_backfilling_twice_gives_identical_tables_and_a_second_ledger(wh, landing):
    backfill(wh, landing)
    tables = data_tables(wh)
    assert len(tables) == 10
    first = {t: contents(wh, t) for t in tables}
    assert len(first["nba_raw.nbac_player_boxscore"]) == 6
    assert len(first["nba_analytics.upcoming_player_game_context"]) == 2
    first_ids = ledger_run_ids(wh)
    first_box_run = wh.con.execute("SELECT DISTINCT run_id FROM nba_raw.nbac_player_boxscore").fetchall()

    backfill(wh, landing)

    assert {t: contents(wh, t) for t in tables} == first
    second_ids = ledger_run_ids(wh)
    assert len(second_ids) == 2 * len(first_ids) == 2 * 20  # 10 processors × 2 dates
    assert len(set(second_ids)) == 2 * len(set(first_ids)) == 2 * 10  # one run id per processor run
    assert set(first_ids) < set(second_ids)
    # the partition was replaced by the second run, not appended to
    second_box_run = wh.con.execute("SELECT DISTINCT run_id FROM nba_raw.nbac_player_boxscore").fetchall()
    assert len(second_box_run) == 1 and second_box_run != first_box_run
    assert second_box_run[0][0] in set(second_ids) - set(first_ids)


def give_tatum_a_free_throw(landing: Path) -> None:
    """Tatum 5/6 FT → 6/6 FT: points 28 → 29, BOS 41 → 42 (box score kept consistent)."""
    path = landing / D1_TEXT / f"boxscore_{G1}.json"
    obj = json.loads(path.read_text(encoding="utf-8"))
    home = obj["game"]["homeTeam"]
    tatum = next(p for p in home["players"] if p["personId"] == 1)
    tatum["statistics"]["freeThrowsMade"] += 1
    tatum["statistics"]["points"] += 1
    home["statistics"]["freeThrowsMade"] += 1
    home["statistics"]["points"] += 1
    home["score"] += 1
    dump(path, obj)


def tatum_line(wh: Warehouse) -> tuple:
    return wh.con.execute(
        "SELECT points, ftm FROM nba_raw.nbac_player_boxscore WHERE person_id = 1 AND game_date = ?", [D1]
    ).fetchone()


def test_crash_inside_the_write_leaves_partition_and_ledger_untouched(wh, landing, monkeypatch):
    spec = registry().get("NbacPlayerBoxscoreProcessor")
    run_processor(wh, registry().get("NbacScheduleProcessor"), [D1], RunOptions(), {"landing": landing})
    clean = run_processor(wh, spec, [D1], RunOptions(), {"landing": landing})
    assert clean.dates_with("success") == [D1]
    table = "nba_raw.nbac_player_boxscore"
    before = wh.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    assert tatum_line(wh) == (28, 5)
    ledger_before = wh.con.execute(f"SELECT * FROM {LEDGER} ORDER BY ALL").fetchall()

    give_tatum_a_free_throw(landing)
    seen: list[tuple] = []

    def crash(spec_, dates):
        seen.append((spec_.name, list(dates)))
        raise RuntimeError("power cut")

    monkeypatch.setattr(runner, "_before_commit", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        run_processor(wh, spec, [D1], RunOptions(), {"landing": landing})

    assert seen == [("NbacPlayerBoxscoreProcessor", [D1])]  # the fault hit inside the write
    assert wh.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == before
    assert wh.con.execute(f"SELECT * FROM {LEDGER} ORDER BY ALL").fetchall() == ledger_before

    monkeypatch.undo()
    again = run_processor(wh, spec, [D1], RunOptions(), {"landing": landing})

    assert [(r.data_date, r.status, r.records_created) for r in again.rows] == [(D1, "success", 6)]
    assert tatum_line(wh) == (28 + 1, 5 + 1)
    assert wh.con.execute(f"SELECT DISTINCT run_id FROM {table}").fetchall() == [(again.run_id,)]
    assert len(wh.con.execute(f"SELECT * FROM {LEDGER}").fetchall()) == len(ledger_before) + 1


def test_registry_order_is_a_deterministic_dag_order():
    names = [s.name for s in registry().order]
    phases = [s.phase for s in registry().order]
    assert phases == sorted(phases)
    assert {2, 3} <= set(phases)
    assert names[0] == "NbacScheduleProcessor"
    assert names.index("PlayerGameSummaryProcessor") < names.index("UpcomingPlayerGameContextProcessor")
    # ties broken by name: the schedule's children in alphabetical order
    assert names[1:6] == ["NbacGamebookProcessor", "NbacPlayerBoxscoreProcessor", "NbacShotsProcessor",
                          "NbacTeamBoxscoreProcessor", "OddsPlayerPropsProcessor"]
    # the same specs given in reverse give the same order
    assert [s.name for s in Registry(list(reversed(registry().order))).order] == names


def test_registry_rejects_a_cycle():
    a = ProcessorSpec(name="A", phase=3, output_table="x.a", date_column="d", entity_key=("k",),
                      dependencies=(Dependency("x.b", same_date()),), sql="SELECT 1")
    b = ProcessorSpec(name="B", phase=3, output_table="x.b", date_column="d", entity_key=("k",),
                      dependencies=(Dependency("x.a", same_date()),), sql="SELECT 1")
    with pytest.raises(ValueError, match="cycle: A, B"):
        Registry([a, b])


def test_a_compute_that_raises_fails_its_dates_in_the_ledger(wh, landing):
    """Any error of a compute (not only a query error) fails the run's dates, recorded with the
    error, and the stored partition stays as it was."""
    schedule = registry().get("NbacScheduleProcessor")
    run_processor(wh, schedule, [D1], RunOptions(), {"landing": landing})
    spec = registry().get("NbacPlayerBoxscoreProcessor")
    assert run_processor(wh, spec, [D1], RunOptions(), {"landing": landing}).dates_with("success") == [D1]
    before = wh.con.execute("SELECT * FROM nba_raw.nbac_player_boxscore ORDER BY ALL").fetchall()

    def broken(ctx):
        raise KeyError("homeTeam")

    import dataclasses

    result = run_processor(wh, dataclasses.replace(spec, compute=broken), [D1, D2], RunOptions(),
                           {"landing": landing})
    assert [(r.data_date, r.status, r.errors) for r in result.rows] == \
        [(d, "failed", ["PROCESSING_ERROR: KeyError: 'homeTeam'"]) for d in (D1, D2)]
    latest = wh.con.execute(f"SELECT status FROM {LEDGER} WHERE run_id = ?", [result.run_id]).fetchall()
    assert latest == [("failed",), ("failed",)]
    assert wh.con.execute("SELECT * FROM nba_raw.nbac_player_boxscore ORDER BY ALL").fetchall() == before


def test_a_write_that_fails_reports_no_changes(wh, landing, monkeypatch):
    """A scoped run whose write fails inside the transaction is rolled back: it reports no
    records changed (a cascade must not propagate changes that were not written)."""
    import duckdb

    run_processor(wh, registry().get("NbacScheduleProcessor"), [D1], RunOptions(), {"landing": landing})
    spec = registry().get("NbacPlayerBoxscoreProcessor")

    def fails(spec_, dates):
        raise duckdb.ConstraintException("disk said no")

    monkeypatch.setattr(runner, "_before_commit", fails)
    result = run_processor(wh, spec, [D1], RunOptions(), {"landing": landing}, scope={})
    assert [(r.status, r.errors) for r in result.rows] == [("failed", ["PROCESSING_ERROR: write failed: "
                                                                        "disk said no"])]
    assert (result.recomputed, result.changed) == (0, {})
    assert wh.con.execute("SELECT count(*) FROM nba_raw.nbac_player_boxscore").fetchall() == [(0,)]


def test_a_payload_that_cannot_be_read_fails_its_date_by_name(wh, landing):
    """A payload path that is a folder (or unreadable) fails its date with the file named in
    the ledger: no traceback, and the processor's run is recorded."""
    run_processor(wh, registry().get("NbacScheduleProcessor"), [D1], RunOptions(), {"landing": landing})
    bad = landing / D1_TEXT / f"boxscore_{G1}.json"
    bad.unlink()
    bad.mkdir()
    result = run_processor(wh, registry().get("NbacPlayerBoxscoreProcessor"), [D1], RunOptions(),
                           {"landing": landing})
    assert result.dates_with("failed") == [D1]
    assert f"{bad}: cannot read (Is a directory)" in result.rows[0].errors, result.rows[0].errors
    assert wh.con.execute(f"SELECT status FROM {LEDGER} WHERE run_id = ?", [result.run_id]).fetchall() == [("failed",)]


@pytest.mark.parametrize("interrupt", [lambda: RuntimeError("Query interrupted"), KeyboardInterrupt])
def test_an_interrupted_compute_stops_the_command(wh, landing, interrupt):
    """Ctrl-C during a query reaches Python as DuckDB's RuntimeError (or KeyboardInterrupt): it
    is not a failed date, the command stops and writes nothing."""
    import dataclasses

    run_processor(wh, registry().get("NbacScheduleProcessor"), [D1], RunOptions(), {"landing": landing})
    spec = registry().get("NbacPlayerBoxscoreProcessor")
    before = wh.con.execute(f"SELECT count(*) FROM {LEDGER}").fetchall()

    def stopped(ctx):
        raise interrupt()  # a new exception each time: a raised one keeps the frames (and the store) alive

    with pytest.raises((RuntimeError, KeyboardInterrupt)):
        run_processor(wh, dataclasses.replace(spec, compute=stopped), [D1], RunOptions(), {"landing": landing})
    assert wh.con.execute(f"SELECT count(*) FROM {LEDGER}").fetchall() == before
