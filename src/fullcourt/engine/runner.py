"""The one runner: applies run options to any processor spec over a set of dates.

A processor run computes all its dates at once into a staging table, then, in ONE
transaction, replaces the output partitions of the dates that succeeded, replaces their
tracked failures and writes every date's ledger row. A crash before COMMIT leaves the
previous partitions and ledger exactly as they were.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Sequence

import duckdb

from fullcourt.engine import ledger
from fullcourt.engine.ledger import LedgerRow
from fullcourt.engine.scope import Fresh, Scope, set_run_labels, write_changes
from fullcourt.engine.spec import ComputeContext, Computed, ProcessorSpec
from fullcourt.engine.warehouse import Warehouse, check_identifier
from fullcourt.errors import FullcourtError

Progress = Callable[[str, int, int], None]
OnCommit = Callable[[duckdb.DuckDBPyConnection, str, Sequence[LedgerRow]], None]
_COMMIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class RunOptions:
    """The options every processor run takes (seed 004's table)."""

    backfill_mode: bool = False
    strict_mode: bool = True
    skip_downstream_trigger: bool = False
    triggered_by: str = "cli"
    trigger_message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "backfill_mode": self.backfill_mode,
            "strict_mode": self.strict_mode,
            "skip_downstream_trigger": self.skip_downstream_trigger,
            "triggered_by": self.triggered_by,
            "trigger_message_id": self.trigger_message_id,
        }


@dataclass
class ProcessorResult:
    """Outcome of one processor over its dates: one ledger row per date that had work."""

    processor: str
    phase: int
    run_id: str
    rows: list[LedgerRow] = field(default_factory=list)
    seconds: float = 0.0
    triggered_by: str = "cli"
    recomputed: int = 0
    """Scoped runs: in-scope records and tracked failures computed."""
    changed: dict[date, set[str]] = field(default_factory=dict)
    """Scoped runs: labels whose records or tracked failures changed, per date."""
    fresh: dict[date, set[str]] = field(default_factory=dict)
    """Scoped runs: labels unchanged but written by a `fresh` run (they propagate), per date."""

    def dates_with(self, status: str) -> list[date]:
        return sorted(r.data_date for r in self.rows if r.status == status)

    @property
    def failed(self) -> list[date]:
        return self.dates_with("failed")

    @property
    def records(self) -> int:
        return sum(r.records_created for r in self.rows)

    @property
    def failures(self) -> int:
        return sum(r.records_failed for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "phase": self.phase,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
            "records_created": self.records,
            "records_failed": self.failures,
            "dates": [
                {
                    "date": r.data_date.isoformat(),
                    "status": r.status,
                    "skip_reason": r.skip_reason,
                    "records_created": r.records_created,
                    "records_failed": r.records_failed,
                    "errors": r.errors,
                }
                for r in self.rows
            ],
        }


def _before_commit(spec: ProcessorSpec, dates: Sequence[date]) -> None:
    """Hook called inside the write transaction, before COMMIT (tests inject faults here)."""


def set_run_dates(con: duckdb.DuckDBPyConnection, dates: Sequence[date], name: str = "run_dates") -> None:
    """(Re)create temp table `name(d DATE)` holding `dates`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {check_identifier(name)} AS SELECT unnest(?::DATE[]) AS d",
                [sorted(set(dates))])


def work_dates(con: duckdb.DuckDBPyConnection, spec: ProcessorSpec, dates: Sequence[date]) -> list[date]:
    """The dates among `dates` on which `spec` has work (e.g. game dates)."""
    if not spec.work_dates_sql:
        return sorted(set(dates))
    set_run_dates(con, dates)
    return sorted(r[0] for r in con.execute(spec.work_dates_sql).fetchall())


def run_processor(
    wh: Warehouse,
    spec: ProcessorSpec,
    dates: Sequence[date],
    options: RunOptions = RunOptions(),
    params: dict[str, Any] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    preset: dict[date, tuple[str, str]] | None = None,
    stop_at_failure: bool = False,
    on_commit: OnCommit | None = None,
    scope: Scope | None = None,
    have_work: bool = False,
    fresh: Fresh | None = None,
) -> ProcessorResult:
    """Run `spec` for `dates` (those with work), writing partitions and ledger atomically.

    Returns the per-date outcomes; never raises for a failing date (it is recorded as failed).
    `con` lets parallel callers pass their own cursor. `preset` gives dates that are not
    computed but recorded with a status and reason: ("skipped", reason) or ("blocked",
    reason). With `stop_at_failure`, dates after the first failed one are dropped: nothing
    is written or recorded for them (error policy `stop`). `on_commit(con, run_id, rows)` runs inside
    the write transaction after the ledger rows (outbox messages, checkpoints).

    With `scope` (engine/scope.py; `{}` for whole dates), the run recomputes the scoped dates
    only for the listed labels and writes only the in-scope records and failures that differ
    from the stored ones; `result.changed` names them and the ledger rows count the whole
    partitions after the write. A spec without `label_column` ignores the labels (whole dates).
    `have_work`: the caller already kept only the dates `spec` has work on (no second query).
    `fresh` (scoped runs): see scope.write_changes.
    """
    c = con or wh.con
    t0 = time.perf_counter()
    run_id = ledger.new_run_id()
    started = datetime.now()
    result = ProcessorResult(spec.name, spec.phase, run_id, triggered_by=options.triggered_by)
    todo = sorted(set(dates)) if have_work else work_dates(c, spec, dates)
    if not todo:
        return result
    fixed: dict[date, tuple[str, str]] = {}
    for d in todo:
        reason = spec.skip_reason(d) if spec.skip_reason else None
        if reason:
            fixed[d] = ("skipped", reason)
        elif preset and d in preset:
            fixed[d] = preset[d]
    compute_dates = [d for d in todo if d not in fixed]
    stage = f"stage_{spec.name.lower()}"
    computed: Computed | None = None
    crash: str | None = None
    if scope is not None and not spec.label_column:
        scope = {}
    if compute_dates:
        set_run_dates(c, compute_dates)
        set_run_labels(c, scope, compute_dates)
        ctx = ComputeContext(con=c, dates=compute_dates, run_id=run_id, params=params or {}, stage=stage)
        try:
            computed = spec.compute(ctx) if spec.compute else _compute_sql(spec, ctx)
        except (FullcourtError, duckdb.InterruptException):  # the user's input is wrong, or Ctrl-C
            raise
        except Exception as exc:  # the dates fail and the ledger says why
            if isinstance(exc, RuntimeError) and "Query interrupted" in str(exc):
                raise  # DuckDB reports Ctrl-C during a query this way: the command stops
            crash = f"PROCESSING_ERROR: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    finished = datetime.now()
    rows: list[LedgerRow] = [
        LedgerRow(spec.name, _phase(spec), d, status, started, finished,
                  skip_reason=reason if status == "skipped" else None,
                  errors=[reason] if status == "blocked" else [])
        for d, (status, reason) in fixed.items()
    ]
    errors = dict(computed.date_errors) if computed else {}
    if crash:
        errors = {d: [crash] for d in compute_dates}
    elif computed and computed.no_work:
        compute_dates = [d for d in compute_dates if d not in computed.no_work]
    if stop_at_failure and errors:
        first = min(errors)
        compute_dates = [d for d in compute_dates if d <= first]
        errors = {first: errors[first]}
        rows = [r for r in rows if r.data_date <= first]
    ok = [d for d in compute_dates if d not in errors]
    counted = computed is not None and bool(ok) and scope is None  # a scoped write recounts the partitions
    created = _counts(c, computed.stage, spec.date_column, ok) if counted and computed else {}
    failed_counts = (
        _counts(c, computed.failures_stage, "analysis_date", ok)
        if counted and computed and computed.failures_stage
        else {}
    )
    warnings = computed.warnings if computed else {}
    for d in compute_dates:
        if d in errors:
            rows.append(LedgerRow(spec.name, _phase(spec), d, "failed", started, finished, errors=errors[d]))
        else:
            rows.append(
                LedgerRow(
                    spec.name,
                    _phase(spec),
                    d,
                    "success",
                    started,
                    finished,
                    records_created=created.get(d, 0),
                    records_failed=failed_counts.get(d, 0),
                    errors=warnings.get(d, []),
                )
            )
    rows.sort(key=lambda r: r.data_date)
    written = sorted(set(ok) | (computed.extra_dates if computed and not crash else set()))
    try:
        with _COMMIT_LOCK:  # computes may run in parallel; commits are serialised
            _commit(wh, c, spec, computed, written, run_id, rows, options, on_commit, scope, result, fresh)
    except duckdb.InterruptException:  # Ctrl-C: rolled back, the command stops
        raise
    except duckdb.Error as exc:
        result.recomputed, result.changed, result.fresh = 0, {}, {}  # rolled back: nothing was written
        message = f"PROCESSING_ERROR: write failed: {str(exc).splitlines()[0]}"
        for r in rows:
            if r.status == "success":
                r.status, r.records_created, r.records_failed, r.errors = "failed", 0, 0, [message]
        with wh.transaction(c):
            ledger.write_rows(c, wh.catalog.ledger_table, run_id, rows, options.as_dict())
            if on_commit:
                on_commit(c, run_id, rows)
    finally:
        _drop(c, computed)
    result.rows = rows
    result.seconds = time.perf_counter() - t0
    return result


def _phase(spec: ProcessorSpec) -> str:
    return f"phase_{spec.phase}"


def _compute_sql(spec: ProcessorSpec, ctx: ComputeContext) -> Computed:
    assert spec.sql is not None
    ctx.con.execute(f"CREATE OR REPLACE TEMP TABLE {ctx.stage} AS {spec.sql}")
    return Computed(stage=ctx.stage)


def _counts(con: duckdb.DuckDBPyConnection, table: str, column: str, dates: Sequence[date]) -> dict[date, int]:
    rows = con.execute(
        f"SELECT {check_identifier(column)}, count(*) FROM {check_identifier(table)} "
        f"WHERE {column} IN (SELECT unnest(?::DATE[])) GROUP BY 1",
        [list(dates)],
    ).fetchall()
    return {d: n for d, n in rows}


def _commit(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    spec: ProcessorSpec,
    computed: Computed | None,
    ok: Sequence[date],
    run_id: str,
    rows: Sequence[LedgerRow],
    options: RunOptions,
    on_commit: OnCommit | None = None,
    scope: Scope | None = None,
    result: ProcessorResult | None = None,
    fresh: Fresh | None = None,
) -> None:
    out = check_identifier(spec.output_table)
    col = check_identifier(spec.date_column)
    failures_table = check_identifier(wh.catalog.failures_table)
    with wh.transaction(con):
        removed = check_identifier(wh.catalog.removed_table) if wh.catalog.removed_table and spec.label_column else ""
        if computed and ok and scope is not None:
            set_run_dates(con, ok, "ok_dates")
            written = write_changes(con, spec, computed.stage, computed.failures_stage, failures_table, run_id, ok,
                                    fresh, removed)
            if result is not None:
                result.recomputed, result.changed, result.fresh = written.recomputed, written.changed, written.fresh
            _recount(con, spec, failures_table, ok, rows)
        elif computed and ok:
            set_run_dates(con, ok, "ok_dates")
            if removed:  # the stored records whose entity the new partition no longer has
                lab = check_identifier(spec.label_column or "")
                con.execute(
                    f"""INSERT INTO {removed} SELECT ?, o.{col}, o.{lab}::VARCHAR, ?, now()::TIMESTAMP FROM {out} o
                        WHERE o.{col} IN (SELECT d FROM ok_dates) AND NOT EXISTS (
                            SELECT 1 FROM {check_identifier(computed.stage)} s
                            WHERE s.{col} = o.{col} AND s.{lab}::VARCHAR = o.{lab}::VARCHAR)""", [spec.name, run_id])
            con.execute(f"DELETE FROM {out} WHERE {col} IN (SELECT d FROM ok_dates)")
            con.execute(
                f"INSERT INTO {out} BY NAME SELECT *, ?::VARCHAR AS run_id, now()::TIMESTAMP AS processed_at "
                f"FROM {computed.stage} WHERE {col} IN (SELECT d FROM ok_dates)",
                [run_id],
            )
            con.execute(
                f"DELETE FROM {failures_table} WHERE processor_name = ? AND analysis_date IN (SELECT d FROM ok_dates)",
                [spec.name],
            )
            if computed.failures_stage:
                con.execute(
                    f"""INSERT INTO {failures_table} BY NAME
                    SELECT ?::VARCHAR AS processor_name, analysis_date, entity_id, failure_category,
                           failure_reason, can_retry, ?::VARCHAR AS run_id, now()::TIMESTAMP AS created_at
                    FROM {computed.failures_stage} WHERE analysis_date IN (SELECT d FROM ok_dates)""",
                    [spec.name, run_id],
                )
        ledger.write_rows(con, wh.catalog.ledger_table, run_id, rows, options.as_dict())
        if on_commit:
            on_commit(con, run_id, rows)
        _before_commit(spec, ok)


def _recount(con: duckdb.DuckDBPyConnection, spec: ProcessorSpec, failures_table: str, ok: Sequence[date],
             rows: Sequence[LedgerRow]) -> None:
    """Set the success rows' counts to the partitions' records and failures after a scoped write
    (one query for both)."""
    dc = check_identifier(spec.date_column)
    created: dict[date, int] = {}
    failed: dict[date, int] = {}
    for kind, d, n in con.execute(
            f"SELECT 'r', {dc}, count(*) FROM {check_identifier(spec.output_table)} "
            f"WHERE {dc} BETWEEN ? AND ? AND {dc} IN (SELECT d FROM ok_dates) GROUP BY 2 "
            f"UNION ALL SELECT 'f', analysis_date, count(*) FROM {check_identifier(failures_table)} "
            "WHERE processor_name = ? AND analysis_date IN (SELECT d FROM ok_dates) GROUP BY 2",
            [min(ok), max(ok), spec.name]).fetchall():
        (created if kind == "r" else failed)[d] = n
    for r in rows:
        if r.status == "success":
            r.records_created, r.records_failed = created.get(r.data_date, 0), failed.get(r.data_date, 0)


def _drop(con: duckdb.DuckDBPyConnection, computed: Computed | None) -> None:
    if computed is None:
        return
    kind = "VIEW" if computed.backing else "TABLE"
    for t in (computed.stage, computed.failures_stage):
        if t:
            con.execute(f"DROP {kind} IF EXISTS {check_identifier(t)}")
    for t in computed.backing:
        con.execute(f"DROP TABLE IF EXISTS {check_identifier(t)}")


def run_specs(
    wh: Warehouse,
    specs: Sequence[ProcessorSpec],
    dates: Sequence[date],
    options: RunOptions = RunOptions(),
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> list[ProcessorResult]:
    """Run `specs` (already in DAG order) one after another, each over all `dates`."""
    results = []
    for i, spec in enumerate(specs):
        if progress:
            progress(spec.name, i, len(specs))
        results.append(run_processor(wh, spec, dates, options, params))
    if progress:
        progress("", len(specs), len(specs))
    return results


def run_levels(
    wh: Warehouse,
    levels: Sequence[Sequence[ProcessorSpec]],
    dates: Sequence[date],
    options: RunOptions = RunOptions(),
    params: dict[str, Any] | None = None,
    parallel: int = 1,
    progress: Progress | None = None,
) -> list[ProcessorResult]:
    """Run DAG levels in order; the processors of one level (independent of each other) run
    concurrently on their own cursors when `parallel` > 1. Results are in level order."""
    results: list[ProcessorResult] = []
    total = sum(len(level) for level in levels)
    done = 0
    for level in levels:
        if progress:
            progress(" + ".join(s.name for s in level), done, total)
        if parallel > 1 and len(level) > 1:
            cursors = [wh.con.cursor() for _ in level]
            try:
                with ThreadPoolExecutor(max_workers=min(parallel, len(level))) as pool:
                    futures = [
                        pool.submit(run_processor, wh, spec, dates, options, dict(params or {}), cur)
                        for spec, cur in zip(level, cursors)
                    ]
                    results.extend(f.result() for f in futures)
            finally:
                for cur in cursors:
                    cur.close()
        else:
            results.extend(run_processor(wh, spec, dates, options, params) for spec in level)
        done += len(level)
    if progress:
        progress("", total, total)
    return results
