"""The cascade: which downstream records a (re)loaded date changes, and recomputing only them.

`reprocess` walks the DAG from the processors whose dates were (re)loaded. For each
downstream processor it derives candidate dates from what really changed upstream, through
the dependency's window read forward:

- same_date: the changed date itself;
- lookback_days(n): the n days after it;
- season_to_date: every later date of the period;
- last_n_games(n): per changed entity (label), the dates up to its n-th next row in the
  upstream table (the rest of the period if it has fewer), plus every stored record whose
  `historical_completeness.missing_game_dates` names the changed date (teammates who did
  not play in a game that was missing still had it in their span).

It snapshots the candidate partitions, recomputes them (one set-based run), and diffs old and
new rows and tracked failures, ignoring run metadata. Only entities whose rows really changed
propagate further (early cutoff). `detect` predicts the same sets without recomputing: it
assumes every record on a candidate date changes, and carries entity labels forward from the
stored and reloaded data, so it lists a superset of what `reprocess` changes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Iterable, Sequence

import duckdb

from fullcourt.engine.runner import RunOptions, run_processor, work_dates
from fullcourt.engine.spec import ProcessorSpec, Registry, Window
from fullcourt.engine.warehouse import Warehouse, check_identifier

RUN_META = ("run_id", "processed_at")
WILDCARD = "*"
"""A detected label meaning "every entity of this processor on this date": used where nothing
was stored to name them (the processor was skipped or failed there because of the gap)."""
Progress = Callable[[str, int, int], None]
ALL = None  # "every entity" of a date
Changes = dict[date, set[str] | None]  # date -> changed labels (None: all of the date)


def forward_dates(window: Window, x: date, period_end: date) -> list[date]:
    """Dates whose window reads date `x`, for the window kinds that do not depend on entities.

    same_date → [x]; lookback_days(n) → x+1 .. x+n; season_to_date → x+1 .. period_end;
    last_n_games is entity-dependent (see `_next_games`); it returns [] here.
    """
    if window.kind == "same_date":
        return [x]
    if window.kind == "lookback_days":
        return [x + timedelta(days=i) for i in range(1, window.n + 1) if x + timedelta(days=i) <= period_end]
    if window.kind == "season_to_date":
        return [x + timedelta(days=i) for i in range(1, (period_end - x).days + 1)]
    return []


@dataclass
class ProcessorChange:
    """One processor's share of a cascade: dates recomputed, records recomputed/changed."""

    processor: str
    dates: list[date] = field(default_factory=list)
    recomputed: int = 0
    changed: dict[date, set[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed_count(self) -> int:
        return sum(len(v) for v in self.changed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "dates": len(self.dates),
            "records_recomputed": self.recomputed,
            "records_changed": self.changed_count,
            "records_unchanged": max(self.recomputed - self.changed_count, 0),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class CascadeResult:
    """What a cascade changed (reprocess) or would touch (detect), per processor."""

    seed_dates: list[date]
    processors: list[ProcessorChange] = field(default_factory=list)
    seconds: float = 0.0

    def records(self) -> set[tuple[str, date, str]]:
        return {(p.processor, d, e) for p in self.processors for d, es in p.changed.items() for e in es}

    def missed(self, records: Iterable[tuple[str, date, str]]) -> set[tuple[str, date, str]]:
        """The `records` this result does not list, by name or under their date's wildcard."""
        found = self.records()
        return {r for r in records if r not in found and (r[0], r[1], WILDCARD) not in found}

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed_dates": [d.isoformat() for d in self.seed_dates],
            "records": len(self.records()),
            "seconds": round(self.seconds, 3),
            "processors": [p.to_dict() for p in self.processors],
        }


class Cascade:
    """Shared machinery of detect and reprocess over one warehouse and registry."""

    def __init__(self, wh: Warehouse, registry: Registry) -> None:
        self.wh = wh
        self.registry = registry
        end = wh.catalog.period_end
        self.period_end: Callable[[date], date] = end if end else (lambda d: d + timedelta(days=366))

    # -- candidate dates ------------------------------------------------------------------

    def candidates(self, spec: ProcessorSpec, changes: dict[str, Changes], since: date | None = None,
                   seeds: Sequence[date] = ()) -> dict[date, set[str] | None]:
        """Dates (and, where known, labels) of `spec` whose inputs read a change upstream, plus
        the dates from `since` on where its latest run did not succeed (failed, blocked, or
        skipped because of its upstream), plus the reloaded `seeds` dates it never ran at all
        (a day whose phase 2 failed never reached its descendants): records that did not
        exist may now be computed."""
        out: dict[date, set[str] | None] = {}
        if since is not None:
            for d in self.not_succeeded(spec, since):
                _add(out, d, None)
        for d in self.never_ran(spec, seeds):
            _add(out, d, None)
        for dep in spec.dependencies:
            parent = self.registry.by_table.get(dep.table)
            if parent is None or parent.name not in changes:
                continue
            changed = changes[parent.name]
            if dep.window.kind == "last_n_games":
                for d, labels in self._next_games(spec, parent, dep.window.n, changed).items():
                    _add(out, d, labels)
            else:
                for x in changed:
                    for d in forward_dates(dep.window, x, self.period_end(x)):
                        _add(out, d, None)
        return out

    def _next_games(self, spec: ProcessorSpec, parent: ProcessorSpec, n: int, changed: Changes
                    ) -> dict[date, set[str] | None]:
        """last_n_games(n): for each changed (x, label), the dates after x up to the label's
        n-th next row in the parent's table (to the period's end with fewer), restricted to
        that label; plus dates of stored records whose missing_game_dates name x."""
        con = self.wh.con
        label = parent.label_column
        out: dict[date, set[str] | None] = {}
        xs = sorted(changed)
        if label is None or any(changed[x] is None for x in xs):
            # labels unknown: every entity of the parent on x (stored), to each one's n-th next row
            pairs = con.execute(
                f"SELECT DISTINCT {parent.date_column}, {label}::VARCHAR FROM {parent.output_table} "
                f"WHERE {parent.date_column} IN (SELECT unnest(?::DATE[]))", [xs]
            ).fetchall() if label else []
            known = {(x, e) for x, e in pairs}
            for x in xs:
                if changed[x] is not None:
                    known |= {(x, e) for e in changed[x]}
        else:
            known = {(x, e) for x in xs for e in changed[x]}
        if label and known:
            t = check_identifier(parent.output_table)
            dc = check_identifier(parent.date_column)
            rows = con.execute(
                f"""WITH k AS (SELECT unnest(?::DATE[]) AS x, unnest(?::VARCHAR[]) AS e),
                    nxt AS (
                        SELECT k.x, k.e, u.d,
                               row_number() OVER (PARTITION BY k.x, k.e ORDER BY u.d) AS r
                        FROM k JOIN (SELECT DISTINCT {dc} AS d, {label}::VARCHAR AS e FROM {t}) u
                          ON u.e = k.e AND u.d > k.x)
                    SELECT k.x, k.e, max(nxt.d) FILTER (WHERE nxt.r = {n}) AS upto
                    FROM k LEFT JOIN nxt ON nxt.x = k.x AND nxt.e = k.e GROUP BY 1, 2""",
                [[x for x, _ in known], [e for _, e in known]],
            ).fetchall()
            for x, e, upto in rows:
                last = upto if upto is not None else self.period_end(x)
                for i in range(1, (last - x).days + 1):
                    _add(out, x + timedelta(days=i), {e})
        for x in xs:
            for d, e in self._missing_mentions(spec, x):
                _add(out, d, {e})
        return out

    def _missing_mentions(self, spec: ProcessorSpec, x: date) -> list[tuple[date, str]]:
        if not spec.label_column or not self._has_completeness(spec):
            return []
        return self.wh.con.execute(
            f"SELECT {spec.date_column}, {spec.label_column}::VARCHAR FROM {spec.output_table} "
            f"WHERE list_contains(historical_completeness.missing_game_dates, ?::DATE)", [x]
        ).fetchall()

    def _has_completeness(self, spec: ProcessorSpec) -> bool:
        schema, _, table = spec.output_table.partition(".")
        return bool(self.wh.con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "AND column_name = 'historical_completeness'", [schema, table]).fetchall()[0][0])

    # -- snapshots and diffs ----------------------------------------------------------------

    def snapshot(self, spec: ProcessorSpec, dates: Sequence[date], name: str,
                 con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Temp tables `{name}` (output rows) and `{name}_f` (tracked failures) of `dates`."""
        c = con or self.wh.con
        exclude = ", ".join(_existing(c, spec.output_table, RUN_META))
        cols = f"* EXCLUDE ({exclude})" if exclude else "*"
        c.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols} FROM {spec.output_table} "
            f"WHERE {spec.date_column} IN (SELECT unnest(?::DATE[]))", [list(dates)])
        c.execute(
            f"CREATE OR REPLACE TEMP TABLE {name}_f AS SELECT analysis_date, entity_id, failure_category, "
            f"failure_reason, can_retry FROM {self.wh.catalog.failures_table} "
            f"WHERE processor_name = ? AND analysis_date IN (SELECT unnest(?::DATE[]))", [spec.name, list(dates)])

    def diff(self, spec: ProcessorSpec, before: str, after: str) -> dict[date, set[str]]:
        """Labels (or full keys) whose rows or tracked failures differ between two snapshots."""
        con = self.wh.con
        key = spec.label_column or ", ".join(spec.entity_key)
        dc = spec.date_column
        rows = con.execute(
            f"""SELECT DISTINCT {dc}, ({key})::VARCHAR FROM (
                    (SELECT * FROM {before} EXCEPT ALL SELECT * FROM {after})
                    UNION ALL (SELECT * FROM {after} EXCEPT ALL SELECT * FROM {before}))
                UNION
                SELECT DISTINCT analysis_date, entity_id FROM (
                    (SELECT * FROM {before}_f EXCEPT ALL SELECT * FROM {after}_f)
                    UNION ALL (SELECT * FROM {after}_f EXCEPT ALL SELECT * FROM {before}_f))"""
        ).fetchall()
        out: dict[date, set[str]] = {}
        for d, e in rows:
            out.setdefault(d, set()).add(e)
        return out

    def count(self, name: str) -> int:
        return self.wh.con.execute(f"SELECT (SELECT count(*) FROM {name}) + (SELECT count(*) FROM {name}_f)"
                                   ).fetchall()[0][0]

    def not_succeeded(self, spec: ProcessorSpec, since: date) -> list[date]:
        table = check_identifier(self.wh.catalog.ledger_table)
        rows = self.wh.con.execute(
            f"""SELECT data_date FROM (
                    SELECT data_date, arg_max(status, started_at) AS st, arg_max(skip_reason, started_at) AS why
                    FROM {table} WHERE processor_name = ? AND data_date >= ? GROUP BY 1)
                WHERE st IN ('failed', 'blocked') OR (st = 'skipped' AND why LIKE 'upstream%')""",
            [spec.name, since]).fetchall()
        return sorted(r[0] for r in rows)

    def never_ran(self, spec: ProcessorSpec, dates: Sequence[date]) -> list[date]:
        """The dates among `dates` with no ledger row at all for `spec`."""
        if not dates:
            return []
        table = check_identifier(self.wh.catalog.ledger_table)
        ran = {r[0] for r in self.wh.con.execute(
            f"SELECT DISTINCT data_date FROM {table} WHERE processor_name = ? AND data_date IN (SELECT unnest(?::DATE[]))",
            [spec.name, sorted(set(dates))]).fetchall()}
        return sorted(set(dates) - ran)

    def ran_on(self, spec: ProcessorSpec, dates: Sequence[date]) -> list[date]:
        """The dates among `dates` inside `spec`'s computed history (between the first and last
        dates its ledger has): a cascade updates and fills history, it does not extend it."""
        if not dates:
            return []
        table = check_identifier(self.wh.catalog.ledger_table)
        lo, hi = self.wh.con.execute(
            f"SELECT min(data_date), max(data_date) FROM {table} WHERE processor_name = ?", [spec.name]
        ).fetchall()[0]
        if lo is None:
            return []
        inside = sorted(d for d in set(dates) if lo <= d <= hi)
        return work_dates(self.wh.con, spec, inside) if inside else []

    def downstream_of(self, seeds: Iterable[ProcessorSpec]) -> list[ProcessorSpec]:
        names: set[str] = set()
        for s in seeds:
            names |= {d.name for d in self.registry.descendants(s)}
        return [s for s in self.registry.order if s.name in names]


def _add(out: dict[date, set[str] | None], d: date, labels: set[str] | None) -> None:
    if d in out and out[d] is None:
        return
    if labels is None:
        out[d] = None
    else:
        out.setdefault(d, set()).update(labels)


def _existing(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> list[str]:
    schema, _, name = table.partition(".")
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [schema, name]).fetchall()}
    return [c for c in columns if c in have]


def reprocess(wh: Warehouse, registry: Registry, seeds: dict[str, Sequence[date]], params: dict[str, Any],
              only_dates: set[date] | None = None, progress: Progress | None = None) -> CascadeResult:
    """Recompute the processors downstream of `seeds` ({processor: reloaded dates}) in DAG
    order, propagating only records that really changed. `only_dates` bounds the dates
    recomputed (an affected file's dates). Runs are recorded with triggered_by='cascade'."""
    t0 = time.perf_counter()
    cas = Cascade(wh, registry)
    seeds = _with_work(wh, registry, seeds)
    seed_specs = [registry.by_name[n] for n in seeds]
    changes: dict[str, Changes] = {n: {d: ALL for d in ds} for n, ds in seeds.items()}
    result = CascadeResult(sorted({d for ds in seeds.values() for d in ds}))
    if not result.seed_dates:
        return result
    options = RunOptions(backfill_mode=True, strict_mode=False, skip_downstream_trigger=True,
                         triggered_by="cascade")
    plan = cas.downstream_of(seed_specs)
    for i, spec in enumerate(plan):
        if progress:
            progress(spec.name, i, len(plan))
        t = time.perf_counter()
        cand = cas.candidates(spec, changes, min(result.seed_dates), result.seed_dates)
        dates = cas.ran_on(spec, [d for d in sorted(cand) if only_dates is None or d in only_dates])
        change = ProcessorChange(spec.name, dates)
        if dates:
            cas.snapshot(spec, dates, "cascade_before")
            run_processor(wh, spec, dates, options, params)
            cas.snapshot(spec, dates, "cascade_after")
            change.recomputed = cas.count("cascade_after")
            change.changed = cas.diff(spec, "cascade_before", "cascade_after")
            if change.changed:
                changes[spec.name] = {d: set(es) for d, es in change.changed.items()}
        change.seconds = time.perf_counter() - t
        result.processors.append(change)
    if progress:
        progress("", len(plan), len(plan))
    result.seconds = time.perf_counter() - t0
    return result


def detect(wh: Warehouse, registry: Registry, seeds: dict[str, Sequence[date]]) -> CascadeResult:
    """Predict, without recomputing, every record (processor, date, label) whose inputs change
    when the seeds' dates are (re)loaded: all stored records and tracked failures on candidate
    dates (restricted to the entities a last-N-games window names), plus the labels the
    reloaded upstream data carries on those dates (records that do not exist yet)."""
    t0 = time.perf_counter()
    cas = Cascade(wh, registry)
    seeds = _with_work(wh, registry, seeds)
    seed_specs = [registry.by_name[n] for n in seeds]
    changes: dict[str, Changes] = {}
    if not any(seeds.values()):
        return CascadeResult([])
    for name, ds in seeds.items():
        spec = registry.by_name[name]
        changes[name] = {d: _labels_on(wh, spec, d) for d in ds}
    result = CascadeResult(sorted({d for ds in seeds.values() for d in ds}))
    for spec in cas.downstream_of(seed_specs):
        cand = cas.candidates(spec, changes, min(result.seed_dates), result.seed_dates)
        dates = cas.ran_on(spec, sorted(cand))
        change = ProcessorChange(spec.name, dates)
        inherited = _inherited(cas, registry, spec, changes)
        for d in dates:
            labels = cand[d]
            carried = inherited.get(d, set())
            if labels is None:
                stored = _labels_on(wh, spec, d)
                change.changed[d] = (stored | carried) if stored else {WILDCARD}
            else:
                change.changed[d] = set(labels) | carried
        changes[spec.name] = {d: set(v) for d, v in change.changed.items()}
        change.recomputed = change.changed_count
        result.processors.append(change)
    result.seconds = time.perf_counter() - t0
    return result


def _with_work(wh: Warehouse, registry: Registry, seeds: dict[str, Sequence[date]]) -> dict[str, list[date]]:
    """The seeds restricted to the dates each seed processor has work on (e.g. game dates)."""
    return {n: work_dates(wh.con, registry.by_name[n], list(ds)) if ds else [] for n, ds in seeds.items()}


def _inherited(cas: Cascade, registry: Registry, spec: ProcessorSpec, changes: dict[str, Changes]
               ) -> dict[date, set[str]]:
    """Labels a record of `spec` may gain from upstream changes: a parent's changed labels,
    carried forward through the dependency's window, when they name the same kind of entity
    (the same label column, or a parent in an earlier phase keyed by the same people)."""
    out: dict[date, set[str]] = {}
    if not spec.label_column:
        return out
    for dep in spec.dependencies:
        parent = registry.by_table.get(dep.table)
        if parent is None or parent.name not in changes or not parent.label_column:
            continue
        if parent.label_column != spec.label_column and parent.phase >= spec.phase:
            continue
        for x, labels in changes[parent.name].items():
            if not labels or dep.window.kind == "last_n_games":
                continue
            for d in forward_dates(dep.window, x, cas.period_end(x)):
                out.setdefault(d, set()).update(labels)
    return out


def _labels_on(wh: Warehouse, spec: ProcessorSpec, d: date) -> set[str]:
    """Labels of `spec`'s stored records and tracked failures on `d`."""
    if not spec.label_column:
        return set()
    rows = wh.con.execute(
        f"SELECT DISTINCT {spec.label_column}::VARCHAR FROM {spec.output_table} WHERE {spec.date_column} = ? "
        f"UNION SELECT DISTINCT entity_id FROM {wh.catalog.failures_table} "
        f"WHERE processor_name = ? AND analysis_date = ?", [d, spec.name, d]).fetchall()
    return {r[0] for r in rows}
