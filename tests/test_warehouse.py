"""The warehouse: migrations applied once and recorded, identifiers checked, bounded lock wait."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from fullcourt.engine.warehouse import Warehouse, check_identifier, migrate
from fullcourt.errors import DatabaseLockedError, FullcourtError
from fullcourt.nba.pipeline import catalog

MIGRATIONS = "nba_reference.schema_migrations"
ALL_VERSIONS = sorted(m.version for m in catalog().migrations)


def recorded(wh: Warehouse) -> list[tuple]:
    return wh.con.execute(f"SELECT version, name, applied_at FROM {MIGRATIONS} ORDER BY version").fetchall()


def test_migrations_are_applied_once_and_recorded(wh):
    assert ALL_VERSIONS == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert wh.applied == ALL_VERSIONS
    rows = recorded(wh)
    assert [(v, n) for v, n, _ in rows][:3] == [(1, "raw tables"), (2, "ledger and failures"), (3, "analytics tables")]
    assert [(v, n) for v, n, _ in rows] == [
        (1, "raw tables"), (2, "ledger and failures"), (3, "analytics tables"), (4, "precompute: TDZA, PSZA"),
        (5, "precompute: PCF, PDC, MLFS"), (6, "predictions"), (7, "operations: triggers, checkpoints, alerts"),
        (8, "cascade runs"), (9, "real-data imports: shot detail, two-zone features, import runs"),
        (10, "TDZA, PSZA: needs_reprocessing as its own column"),
        (11, "PCF, PDC, MLFS: needs_reprocessing as its own column"), (12, "removed records")]
    assert all(at is not None for _, _, at in rows)
    assert wh.table_exists("nba_analytics.player_game_summary")
    assert wh.table_exists("nba_reference.processor_run_history")

    assert migrate(wh.con, catalog()) == []
    assert recorded(wh) == rows


def test_reopening_the_same_file_applies_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path, catalog()) as first:
        assert first.applied == ALL_VERSIONS
        first.con.execute("INSERT INTO nba_raw.odds_player_props (game_date, player_lookup, market, line) "
                          "VALUES ('2021-11-01', 'jaysontatum', 'player_points', 27.5)")
        rows = recorded(first)

    with Warehouse(path, catalog()) as second:
        assert second.applied == []
        assert recorded(second) == rows
        # the data of the first opening survived (no table was recreated)
        assert second.con.execute("SELECT player_lookup, line FROM nba_raw.odds_player_props").fetchall() == [
            ("jaysontatum", 27.5)]


def test_check_identifier():
    assert check_identifier("nba_raw.nbac_schedule") == "nba_raw.nbac_schedule"
    assert check_identifier("run_dates") == "run_dates"
    for bad in ("x; drop table y", "nba_raw.t; --", "a.b.c", "Upper", "", "1abc", "t where 1=1"):
        with pytest.raises(FullcourtError, match="not a valid table identifier"):
            check_identifier(bad)


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Start a process that holds `path` open for `seconds`; return once it has the file."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"lock holder did not start (rc={proc.poll()})"
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=5)
    proc.stdout.close()


def test_a_locked_file_raises_after_the_timeout(tmp_path):
    path = tmp_path / "locked.duckdb"
    proc = hold_lock(path, 5)
    try:
        t0 = time.monotonic()
        with pytest.raises(DatabaseLockedError) as info:
            Warehouse(path, catalog(), lock_timeout=0.5)
        waited = time.monotonic() - t0
    finally:
        stop(proc)
    assert 0.5 <= waited < 3
    message = str(info.value)
    assert str(path) in message
    assert f"PID {proc.pid}" in message
    assert info.value.remedy and "FULLCOURT_LOCK_TIMEOUT" in info.value.remedy


def test_opening_waits_for_a_lock_released_within_the_timeout(tmp_path):
    path = tmp_path / "busy.duckdb"
    proc = hold_lock(path, 0.6)
    try:
        t0 = time.monotonic()
        with Warehouse(path, catalog(), lock_timeout=10) as wh:
            waited = time.monotonic() - t0
            assert wh.applied == ALL_VERSIONS
    finally:
        stop(proc)
    assert 0.4 <= waited < 5  # it got in only after the holder let go, well before the timeout


def test_the_flag_migration_keeps_every_record_and_flag(tmp_path):
    """A store from before migrations 10-11 (historical_completeness stored as one STRUCT, flag
    inside) keeps every record, field and flag once its flag becomes a column of its own."""
    import dataclasses
    full = catalog()
    old = dataclasses.replace(full, migrations=tuple(m for m in full.migrations if m.version < 10))
    psza, pdc = "nba_precompute.player_shot_zone_analysis", "nba_precompute.player_daily_cache"
    hc = ("{'games_found': 9, 'games_expected': 10, 'contributing_game_dates': [DATE '2022-01-02'], "
          "'missing_game_dates': [DATE '2022-01-05'], 'is_complete': false, "
          "'incompleteness_reason': 'upstream_gap', 'needs_reprocessing': %s}")
    with Warehouse(tmp_path / "v9.duckdb", old) as wh:
        for table, date_column in ((psza, "analysis_date"), (pdc, "cache_date")):
            for pid, flag in ((1, "true"), (2, "false")):
                wh.con.execute(f"INSERT INTO {table} ({date_column}, person_id, player_lookup, historical_completeness, "
                               f"run_id) VALUES (DATE '2022-01-10', {pid}, 'p{pid}', {hc % flag}, 'r')")
        before = {t: records(wh, f"SELECT * FROM {t}") for t in (psza, pdc)}
    with Warehouse(tmp_path / "v9.duckdb", full) as wh:
        assert wh.applied == [10, 11, 12]  # the flag columns, then the removed-records log
        for table in (psza, pdc):
            # the same records, column by column (historical_completeness is now generated)
            assert records(wh, f"SELECT * EXCLUDE (completeness, needs_reprocessing) FROM {table}") == before[table]
            assert wh.con.execute(f"SELECT person_id, needs_reprocessing, historical_completeness.needs_reprocessing "
                                  f"FROM {table} ORDER BY 1").fetchall() == [(1, True, True), (2, False, False)]


def records(wh: Warehouse, sql: str) -> list[dict]:
    cur = wh.con.execute(sql + " ORDER BY person_id")
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
