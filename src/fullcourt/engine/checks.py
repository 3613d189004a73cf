"""Defensive checks (strict mode) and preflight, read from the specs and the ledger.

Before a processor runs for date d in strict mode:
1. upstream status — for every upstream processor and every date its window reads, the
   latest run succeeded. A failed/blocked run (or, when the upstream never ran for a date,
   a failed ancestor) gives `BLOCKED: Upstream Failure` naming the processor and dates.
2. gaps — every upstream table whose spec declares `complete_on` (e.g. game_id) holds
   every expected key (e.g. scheduled game) of the window's dates, else `BLOCKED: Data Gaps`
   listing the missing dates.
Each block carries the command that fixes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Sequence

from fullcourt.context import locate
from fullcourt.dates import format_dates
from fullcourt.engine import ledger
from fullcourt.engine.gaps import find_gaps
from fullcourt.engine.runner import work_dates
from fullcourt.engine.spec import ProcessorSpec, Registry, Window
from fullcourt.engine.warehouse import Warehouse

UPSTREAM_FAILURE = "Upstream Failure"
DATA_GAPS = "Data Gaps"
NOT_OK = ("failed", "blocked")


def read_range(window: Window, d: date, period_start: Callable[[date], date] | None) -> tuple[date, date] | None:
    """Inclusive date range a record of date `d` reads through `window`; None when empty.

    same_date → [d, d]; lookback_days(n) → [d−n, d−1]; last_n_games and season_to_date →
    [period_start(d), d−1] (the whole season so far: which n games is entity-dependent).
    """
    if window.kind == "same_date":
        return d, d
    if window.kind == "lookback_days":
        start = d - timedelta(days=window.n)
    else:
        start = period_start(d) if period_start else d - timedelta(days=366)
    end = d - timedelta(days=1)
    return (start, end) if start <= end else None


@dataclass
class Block:
    """Why a processor may not run for a date, and the command that fixes it."""

    kind: str
    processor: str
    data_date: date
    culprits: list[str]
    dates: list[date]
    remedy: str

    @property
    def message(self) -> str:
        what = (
            f"{', '.join(self.culprits)} did not succeed for {format_dates(self.dates)}"
            if self.kind == UPSTREAM_FAILURE
            else f"missing dates {format_dates(self.dates)} in {', '.join(self.culprits)}"
        )
        return f"BLOCKED: {self.kind}: {self.processor} for {self.data_date}: {what}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "processor": self.processor,
            "date": self.data_date.isoformat(),
            "culprits": self.culprits,
            "dates": [d.isoformat() for d in self.dates],
            "message": self.message,
            "remedy": locate(self.remedy),
        }


def remedy_for(registry: Registry, culprits: Sequence[ProcessorSpec], dates: Sequence[date],
               spec: ProcessorSpec | None = None) -> str:
    """Backfill commands for `dates`, lowest phase first: from the culprits' phase up to the
    phase of `spec` itself, so the rebuilt dates reach its inputs and its own outputs."""
    phases = {s.phase for s in culprits}
    if spec is not None:
        phases |= {p.phase for p in registry.upstream(spec)} | {spec.phase}
    low = min(phases)
    high = max(phases)
    chain = [p for p in sorted({s.phase for s in registry.order}) if low <= p <= high]
    return " && ".join(f"fullcourt backfill --phase {p} --dates {format_dates(dates)}" for p in chain)


def strict_check(wh: Warehouse, registry: Registry, spec: ProcessorSpec, d: date) -> Block | None:
    """Run both defensive checks for (`spec`, `d`); the first that fails is returned."""
    return _status_check(wh, registry, spec, d) or _gap_check(wh, registry, spec, d)


def _status_check(wh: Warehouse, registry: Registry, spec: ProcessorSpec, d: date) -> Block | None:
    con = wh.con
    bad: dict[str, set[date]] = {}
    for dep in spec.dependencies:
        parent = registry.by_table.get(dep.table)
        rng = read_range(dep.window, d, wh.catalog.period_start)
        if parent is None or rng is None:
            continue
        days = work_dates(con, parent, _days(*rng))
        latest = ledger.latest_status(con, wh.catalog.ledger_table, [parent.name], days)
        never = []
        for x in days:
            status = latest.get((parent.name, x))
            if status in NOT_OK:
                bad.setdefault(parent.name, set()).add(x)
            elif status is None:
                never.append(x)
        if never:
            ancestors = registry.ancestors(parent)
            above = ledger.latest_status(con, wh.catalog.ledger_table, [a.name for a in ancestors], never)
            for (name, x), status in above.items():
                if status in NOT_OK:
                    bad.setdefault(name, set()).add(x)
    if not bad:
        return None
    culprits = [s for s in registry.order if s.name in bad]
    dates = sorted(set().union(*bad.values()))
    return Block(UPSTREAM_FAILURE, spec.name, d, [s.name for s in culprits], dates,
                 remedy_for(registry, culprits, dates, spec))


def _gap_check(wh: Warehouse, registry: Registry, spec: ProcessorSpec, d: date) -> Block | None:
    cat = wh.catalog
    if not cat.expected_keys_sql:
        return None
    missing: dict[str, set[date]] = {}
    for dep in spec.dependencies:
        parent = registry.by_table.get(dep.table)
        rng = read_range(dep.window, d, cat.period_start)
        if parent is None or rng is None or not parent.complete_on:
            continue
        gaps = find_gaps(wh.con, cat.expected_keys_sql, dep.table, parent.date_column, parent.complete_on, *rng)
        if gaps.missing:
            missing.setdefault(parent.name, set()).update(gaps.missing)
    if not missing:
        return None
    culprits = [s for s in registry.order if s.name in missing]
    dates = sorted(set().union(*missing.values()))
    # the fix starts where the hole starts: ancestors whose tables lack the same dates
    deeper = {a.name: a for c in culprits for a in registry.ancestors(c) if a.complete_on}
    fix = list(culprits)
    for a in deeper.values():
        gaps = find_gaps(wh.con, cat.expected_keys_sql, a.output_table, a.date_column, a.complete_on,
                         dates[0], dates[-1])
        if set(gaps.missing) & set(dates):
            fix.append(a)
    remedy = remedy_for(registry, fix, dates, spec)
    # a first-phase table that lacks games although its latest run there succeeded loaded all
    # the files there were: reloading cannot help until the source files are fetched again
    first = min(s.phase for s in registry.order)
    loaded = [f for f in fix if f.phase == first]
    latest = ledger.latest_status(wh.con, cat.ledger_table, [f.name for f in loaded], dates) if loaded else {}
    refetch = sorted({x for (_, x), st in latest.items() if st == "success"})
    if refetch:
        remedy = (f"fetch the missing files again (fullcourt scrape --start-date {refetch[0]} --end-date "
                  f"{refetch[-1]}, or the import that wrote them), then: {remedy}")
    return Block(DATA_GAPS, spec.name, d, [s.output_table for s in culprits], dates, remedy)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass
class PreflightResult:
    """Upstream coverage of a phase's inputs over an inclusive range (with lookbacks)."""

    phase: int
    start: date
    end: date
    checked_from: date
    missing: dict[str, list[date]] = field(default_factory=dict)
    failed: dict[str, list[date]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.failed

    @property
    def dates(self) -> list[date]:
        return sorted({d for v in [*self.missing.values(), *self.failed.values()] for d in v})

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "checked_from": self.checked_from.isoformat(),
            "ok": self.ok,
            "dates": [d.isoformat() for d in self.dates],
            "missing": {t: [d.isoformat() for d in v] for t, v in self.missing.items()},
            "failed": {p: [d.isoformat() for d in v] for p, v in self.failed.items()},
        }


def preflight(wh: Warehouse, registry: Registry, phase: int, start: date, end: date) -> PreflightResult:
    """Check the tables earlier phases give to `phase`'s processors, over [start, end] plus the
    windows' lookback: every expected key present and no failed latest run."""
    specs = registry.phase(phase)
    cat = wh.catalog
    first = start
    inputs: dict[str, ProcessorSpec] = {}
    for spec in specs:
        for dep in spec.dependencies:
            parent = registry.by_table.get(dep.table)
            if parent is None or parent.phase >= phase:
                continue
            inputs[parent.name] = parent
            rng = read_range(dep.window, start, cat.period_start)
            if rng:
                first = min(first, rng[0])
    result = PreflightResult(phase, start, end, first)
    for parent in inputs.values():
        if cat.expected_keys_sql and parent.complete_on:
            gaps = find_gaps(wh.con, cat.expected_keys_sql, parent.output_table, parent.date_column,
                             parent.complete_on, first, end)
            if gaps.missing:
                result.missing[parent.output_table] = gaps.missing_dates
        days = work_dates(wh.con, parent, _days(first, end))
        latest = ledger.latest_status(wh.con, cat.ledger_table, [parent.name], days)
        failed = sorted(x for (_, x), st in latest.items() if st in NOT_OK)
        if failed:
            result.failed[parent.name] = failed
    return result
