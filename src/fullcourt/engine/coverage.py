"""Coverage reconcile: every expected entity of a processor's date is a record or a tracked failure.

For each processor with `expected_sql` and each of its work dates in the range (e.g. game
dates; dates it skips by design, such as bootstrap days, excluded): expected entities (the
spec's SQL), records (the output table's label column), tracked failures (the catalog's
failures table). An expected entity that is neither is UNTRACKED; a record or failure that is
not expected is UNEXPECTED. A work date whose latest run did not succeed (failed, blocked,
skipped, or never run) is listed: its entities are not covered. `reconcile` also compares the
ledger's records_created / records_failed with the rows found (a ledger that disagrees is
MISMATCH).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

from fullcourt.dates import date_range
from fullcourt.engine import ledger
from fullcourt.engine.runner import set_run_dates, work_dates
from fullcourt.engine.spec import ProcessorSpec
from fullcourt.engine.warehouse import Warehouse, check_identifier

EXAMPLES = 5


@dataclass
class ProcessorCoverage:
    """One processor's coverage over the dates its latest run succeeded."""

    processor: str
    dates: int = 0
    expected: int = 0
    records: int = 0
    failures: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    untracked: list[tuple[date, str]] = field(default_factory=list)
    unexpected: list[tuple[date, str]] = field(default_factory=list)
    mismatched_dates: list[date] = field(default_factory=list)
    not_succeeded: dict[date, str] = field(default_factory=dict)
    untracked_count: int = 0
    unexpected_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.untracked_count and not self.mismatched_dates and not self.not_succeeded

    def to_dict(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "dates": self.dates,
            "expected": self.expected,
            "records": self.records,
            "failures": self.failures,
            "failures_by_category": self.by_category,
            "untracked": self.untracked_count,
            "untracked_examples": [[d.isoformat(), e] for d, e in self.untracked],
            "unexpected": self.unexpected_count,
            "unexpected_examples": [[d.isoformat(), e] for d, e in self.unexpected],
            "ledger_mismatch_dates": [d.isoformat() for d in self.mismatched_dates],
            "dates_not_succeeded": {d.isoformat(): st for d, st in sorted(self.not_succeeded.items())},
            "status": self.status,
        }


    @property
    def status(self) -> str:
        if self.untracked_count:
            return "UNTRACKED"
        if self.not_succeeded:
            return "NOT RUN"
        return "MISMATCH" if self.mismatched_dates else "OK"


@dataclass
class CoverageResult:
    start: date
    end: date
    reconcile: bool
    processors: list[ProcessorCoverage] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No processor has a work date in the range: there is nothing to validate."""
        return not any(p.dates for p in self.processors)

    @property
    def ok(self) -> bool:
        return not self.empty and all(p.ok for p in self.processors)

    def to_dict(self) -> dict[str, Any]:
        return {"start_date": self.start.isoformat(), "end_date": self.end.isoformat(), "reconcile": self.reconcile,
                "ok": self.ok, "empty": self.empty, "processors": [p.to_dict() for p in self.processors]}


def coverage(wh: Warehouse, specs: Sequence[ProcessorSpec], start: date, end: date,
             reconcile: bool = False) -> CoverageResult:
    """Coverage of `specs` (those with expected_sql and label_column) over [start, end], inclusive."""
    result = CoverageResult(start, end, reconcile)
    con = wh.con
    runs = check_identifier(wh.catalog.ledger_table)
    failures = check_identifier(wh.catalog.failures_table)
    for spec in specs:
        if not spec.expected_sql or not spec.label_column:
            continue
        out = check_identifier(spec.output_table)
        dc, label = check_identifier(spec.date_column), check_identifier(spec.label_column)
        latest = con.execute(
            f"""SELECT data_date, {ledger.latest("status", "records_created", "records_failed")}
                FROM {runs} WHERE processor_name = ? AND data_date BETWEEN ? AND ? GROUP BY 1""",
            [spec.name, start, end]).fetchall()
        status = {d: st for d, st, _, _ in latest}
        check = [d for d in work_dates(con, spec, date_range(start, end)) if not (spec.skip_reason and spec.skip_reason(d))]
        cov = ProcessorCoverage(spec.name, dates=len(check))
        cov.not_succeeded = {d: status.get(d, "never run") for d in check if status.get(d) != "success"}
        result.processors.append(cov)
        if not check:
            continue
        set_run_dates(con, check)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE cov AS
                WITH expected AS (SELECT DISTINCT d, entity_id::VARCHAR AS e FROM ({spec.expected_sql})),
                recs AS (SELECT DISTINCT {dc} AS d, {label}::VARCHAR AS e FROM {out}
                         WHERE {dc} IN (SELECT d FROM run_dates)),
                fails AS (SELECT DISTINCT analysis_date AS d, entity_id AS e, failure_category FROM {failures}
                          WHERE processor_name = ? AND analysis_date IN (SELECT d FROM run_dates))
                SELECT coalesce(x.d, r.d, f.d) AS d, coalesce(x.e, r.e, f.e) AS e, x.e IS NOT NULL AS expected,
                       r.e IS NOT NULL AS is_record, f.failure_category
                FROM expected x
                FULL JOIN recs r ON r.d = x.d AND r.e = x.e
                FULL JOIN fails f ON f.d = coalesce(x.d, r.d) AND f.e = coalesce(x.e, r.e)""",
            [spec.name])
        cov.expected, cov.records, cov.failures, cov.untracked_count, cov.unexpected_count = con.execute(
            """SELECT count(*) FILTER (WHERE expected), count(*) FILTER (WHERE is_record),
                      count(*) FILTER (WHERE failure_category IS NOT NULL),
                      count(*) FILTER (WHERE expected AND NOT is_record AND failure_category IS NULL),
                      count(*) FILTER (WHERE NOT expected) FROM cov""").fetchone()
        cov.by_category = dict(con.execute(
            "SELECT failure_category, count(*) FROM cov WHERE failure_category IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall())
        cov.untracked = [tuple(r) for r in con.execute(
            f"SELECT d, e FROM cov WHERE expected AND NOT is_record AND failure_category IS NULL ORDER BY d, e "
            f"LIMIT {EXAMPLES}").fetchall()]
        cov.unexpected = [tuple(r) for r in con.execute(
            f"SELECT d, e FROM cov WHERE NOT expected ORDER BY d, e LIMIT {EXAMPLES}").fetchall()]
        if reconcile:
            found = dict(((d, (r, f)) for d, r, f in con.execute(
                """SELECT d, count(*) FILTER (WHERE is_record), count(*) FILTER (WHERE failure_category IS NOT NULL)
                   FROM cov GROUP BY d""").fetchall()))
            cov.mismatched_dates = [d for d, st, rc, rf in sorted(latest)
                                    if st == "success" and found.get(d, (0, 0)) != (rc or 0, rf or 0)]
        con.execute("DROP TABLE cov")
    return result
