"""The ledger: processor run history, one row per processor, date and run.

The ledger is the truth about what ran. A run's final rows are written in the same
transaction as its output partitions (see runner.py); this module holds the DDL, the row
shape and the read queries.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Sequence

import duckdb

from fullcourt.engine.warehouse import check_identifier

STATUSES = ("running", "success", "failed", "blocked", "skipped")
TRIGGERS = ("cli", "trigger", "backfill", "cascade")


def ledger_ddl(table: str) -> str:
    """DDL of the run-history table (the seeds' processor_run_history)."""
    return f"""
    CREATE TABLE IF NOT EXISTS {check_identifier(table)} (
        run_id VARCHAR NOT NULL,
        processor_name VARCHAR NOT NULL,
        phase VARCHAR NOT NULL,
        data_date DATE NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ('running','success','failed','blocked','skipped')),
        skip_reason VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        duration_seconds DOUBLE,
        records_created BIGINT,
        records_failed BIGINT,
        backfill_mode BOOLEAN NOT NULL DEFAULT FALSE,
        strict_mode BOOLEAN NOT NULL DEFAULT TRUE,
        skip_downstream_trigger BOOLEAN NOT NULL DEFAULT FALSE,
        triggered_by VARCHAR NOT NULL CHECK (triggered_by IN ('cli','trigger','backfill','cascade')),
        trigger_message_id VARCHAR,
        errors JSON
    )"""


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class LedgerRow:
    """One processor × date outcome of a run."""

    processor_name: str
    phase: str
    data_date: date
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    skip_reason: str | None = None
    records_created: int = 0
    records_failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def write_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: str,
    rows: Sequence[LedgerRow],
    options: dict[str, Any],
) -> None:
    """Insert ledger rows of one run (caller owns the transaction)."""
    if not rows:
        return
    values = [
        (
            run_id,
            r.processor_name,
            r.phase,
            r.data_date,
            r.status,
            r.skip_reason,
            r.started_at,
            r.finished_at,
            r.duration_seconds,
            r.records_created,
            r.records_failed,
            bool(options.get("backfill_mode", False)),
            bool(options.get("strict_mode", True)),
            bool(options.get("skip_downstream_trigger", False)),
            options.get("triggered_by", "cli"),
            options.get("trigger_message_id"),
            json.dumps(r.errors) if r.errors else None,
        )
        for r in rows
    ]
    # one statement for all rows, one list parameter per column: binding a parameter per value
    # (VALUES (?,..),(?,..)) costs ~3x more, executemany a statement per row
    columns = [list(c) for c in zip(*values)]
    select = ", ".join(f"unnest(?::{t}[])" for t in _COLUMN_TYPES)
    con.execute(f"INSERT INTO {check_identifier(table)} SELECT {select}", columns)


_COLUMN_TYPES = ("VARCHAR", "VARCHAR", "VARCHAR", "DATE", "VARCHAR", "VARCHAR", "TIMESTAMP", "TIMESTAMP", "DOUBLE",
                 "BIGINT", "BIGINT", "BOOLEAN", "BOOLEAN", "BOOLEAN", "VARCHAR", "VARCHAR", "JSON")
"""The ledger's column types, in DDL order (write_rows' values follow it)."""


def latest(*columns: str) -> str:
    """SQL select list: each column's value on the latest run (by started_at) of a GROUP BY
    group, NULL included (plain arg_max skips NULLs and would return an older run's value)."""
    return ", ".join(f"arg_max_null({check_identifier(c)}, started_at)" for c in columns)


def latest_status(
    con: duckdb.DuckDBPyConnection, table: str, processors: Sequence[str], dates: Sequence[date]
) -> dict[tuple[str, date], str]:
    """The status of the latest run of each (processor, date) that has one."""
    if not processors or not dates:
        return {}
    rows = con.execute(
        f"""
        SELECT processor_name, data_date, {latest("status")} AS status
        FROM {check_identifier(table)}
        WHERE processor_name IN (SELECT unnest(?::VARCHAR[])) AND data_date IN (SELECT unnest(?::DATE[]))
        GROUP BY ALL
        """,
        [list(processors), list(dates)],
    ).fetchall()
    return {(p, d): s for p, d, s in rows}
