"""The cascade: which downstream records a (re)loaded date changes, and recomputing only them.

`reprocess` walks the DAG below the processors whose dates were (re)loaded (the seeds; they
are not rerun). For each downstream processor it derives candidates (dates, and per date the
labels, or the whole date) from what really changed upstream, through each dependency's
window read forward:

- same_date: the changed date itself;
- lookback_days(n): the n days after it;
- season_to_date: every later date of the period;
- last_n_games(n): per changed entity (label), the dates up to its n-th next row in the
  upstream table (the rest of the period if it has fewer).

A dependency is *entity-local* when it names an `entity` and its parent has the same
`label_column`: a record then reads only its own entity's upstream rows, so a change carries
its labels. A dependency that declares `via=(table, column)` (a team table read by a player
table through the team his context row names) maps the changed teams to the players that read
them on each date. Any other dependency (a league-wide average) makes the whole date a
candidate. A windowed entity-local dependency also adds every stored
record whose `completeness.missing_game_dates` names the changed date (teammates
who did not play in a game that was missing still had it in their span), and a restricted date
always includes the entities with a tracked failure there (their reasons name missing dates).

Each processor is recomputed only for its candidates (engine/scope.py) and only records that
differ from the stored ones are written; their labels are the next processors' input changes
(early cutoff). `detect` predicts the same sets without recomputing: it assumes every candidate
record changes, so it lists a superset of what `reprocess` changes.
"""
from __future__ import annotations

import bisect
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

import duckdb

from fullcourt.engine import ledger
from fullcourt.engine.backfill import upstream_skips
from fullcourt.engine.runner import RunOptions, run_processor, work_dates
from fullcourt.engine.scope import FLAG, STORED_COMPLETENESS, Fresh, flag_tables
from fullcourt.engine.spec import ProcessorSpec, Registry, Window, levels
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
    whole: set[date] = field(default_factory=set)
    """detect: dates whose every stored record is listed (marked by date, not by name)."""
    left: list[date] = field(default_factory=list)
    """reprocess --players: dates it left for a full cascade (their latest run did not succeed)."""
    failed: list[date] = field(default_factory=list)
    """reprocess: dates whose recomputation failed (the ledger says why)."""
    fresh_count: int = 0
    """reprocess: unchanged records propagated because records that read them are older (stale_readers)."""

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
            **({"records_propagated_unchanged": self.fresh_count} if self.fresh_count else {}),
            "seconds": round(self.seconds, 3),
            **({"left_for_a_full_cascade": [d.isoformat() for d in self.left]} if self.left else {}),
            **({"failed": [d.isoformat() for d in self.failed]} if self.failed else {}),
        }


@dataclass
class CascadeResult:
    """What a cascade changed (reprocess) or would touch (detect), per processor."""

    seed_dates: list[date]
    processors: list[ProcessorChange] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        """len(records()), without building the set (processors and (date, label) pairs are distinct)."""
        return sum(p.changed_count for p in self.processors)

    def records(self) -> set[tuple[str, date, str]]:
        return {(p.processor, d, e) for p in self.processors for d, es in p.changed.items() for e in es}

    def missed(self, records: Iterable[tuple[str, date, str]]) -> set[tuple[str, date, str]]:
        """The `records` this result does not list, by name or under their date's wildcard."""
        found = self.records()
        return {r for r in records if r not in found and (r[0], r[1], WILDCARD) not in found}

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed_dates": [d.isoformat() for d in self.seed_dates],
            "records": self.count,
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
        self._flagged: dict[str, bool] = {}
        # Ledger facts, read once for every processor (one query each instead of one per
        # processor): a processor's own ledger rows are read before it runs, and only its own
        # run changes them, so they stay valid for the cascade.
        self._not_succeeded: dict[date, tuple[dict[str, list[date]], dict[str, list[date]]]] = {}
        self._ran: dict[tuple[date, ...], dict[str, set[date]]] = {}
        self._history: dict[str, tuple[date, date]] | None = None
        self._work: dict[str, dict[date, bool]] = {}  # work_dates_sql -> {date: has work}
        self._orphans: dict[tuple[str, date], set[date]] = {}
        self.removed: Mapping[str, Mapping[date, frozenset[str]]] = {}
        """Labels whose records a run removed before the cascade (removed_records): a whole-date
        change of their processor names them too, since no stored row is left to."""

    # -- candidate dates and labels ------------------------------------------------------

    def candidates(self, spec: ProcessorSpec, changes: dict[str, Changes], since: date | None = None,
                   seeds: Sequence[date] = ()) -> dict[date, set[str] | None]:
        """Dates of `spec` whose inputs read a change upstream, each with the labels to recompute
        (None: every entity of the date), plus the dates from `since` on where its latest run
        did not succeed (failed, blocked, or skipped because of its upstream), plus the reloaded
        `seeds` dates it never ran at all (a day whose phase 2 failed never reached its
        descendants): records that did not exist may now be computed."""
        return self.trace(spec, changes, since, seeds, carry=False)[0]

    def trace(self, spec: ProcessorSpec, changes: dict[str, Changes], since: date | None = None,
              seeds: Sequence[date] = (), carry: bool = True
              ) -> tuple[dict[date, set[str] | None], dict[date, set[str]]]:
        """(candidates, carried): `carried` holds, per date, every label the entity-local
        dependencies bring, including on dates that became whole (detect lists them there
        too: they may name records that do not exist yet). Without `carry`, `carried` may
        leave out labels on whole dates (the candidates are the same)."""
        out: dict[date, set[str] | None] = {}
        carried: dict[date, set[str]] = {}
        if since is not None:
            for d in self.not_succeeded(spec, since):
                _add(out, d, None)
            for d in self.orphaned(spec, since):
                _add(out, d, None)
        for d in self.never_ran(spec, seeds):
            _add(out, d, None)
        mentioned: set[date] = set()
        for dep in spec.dependencies:
            parent = self.registry.by_table.get(dep.table)
            if parent is None or parent.name not in changes:
                continue
            changed = changes[parent.name]
            local = dep.entity is not None and parent.label_column is not None \
                and parent.label_column == spec.label_column
            if dep.window.kind == "last_n_games":
                reach: Iterable[tuple[date, set[str] | None]] = self._next_games(parent, dep.window.n, changed).items()
            else:
                reach = ((d, labels) for x, labels in changed.items()
                         for d in forward_dates(dep.window, x, self.period_end(x)))
            via = None if local else dep.via
            if via is not None:  # a cross-entity edge: the labels become this processor's own
                reach = self._via(via, list(reach), changes)
            for d, labels in reach:
                keep = (local or via is not None) and labels is not None
                _add(out, d, set(labels) if keep else None)
                if keep:
                    carried.setdefault(d, set()).update(labels)
            if local and dep.window.kind != "same_date":
                mentioned |= set(changed)
        whole = [] if carry else [d for d, labels in out.items() if labels is None]  # mentions add nothing there
        for d, labels in self._missing_mentions(spec, sorted(mentioned), whole).items():
            _add(out, d, labels)
            carried.setdefault(d, set()).update(labels)
        return out, carried

    def _next_games(self, parent: ProcessorSpec, n: int, changed: Changes) -> dict[date, set[str]]:
        """last_n_games(n): for each changed (x, label), the dates after x up to the label's
        n-th next row in the parent's table (to the period's end with fewer)."""
        con = self.wh.con
        label = parent.label_column
        out: dict[date, set[str]] = {}
        if not label:
            for x in changed:
                for i in range(1, (self.period_end(x) - x).days + 1):
                    out.setdefault(x + timedelta(days=i), set())
            return out
        t = check_identifier(parent.output_table)
        dc = check_identifier(parent.date_column)
        lab = check_identifier(label)
        unknown = sorted(x for x, labels in changed.items() if labels is None)
        known = {(x, e) for x, labels in changed.items() if labels is not None for e in labels}
        if unknown:  # labels unknown: every entity of the parent stored on x, and those removed there
            known |= set(con.execute(
                f"SELECT DISTINCT {dc}, {lab}::VARCHAR FROM {t} WHERE {dc} IN (SELECT unnest(?::DATE[]))",
                [unknown]).fetchall())
            gone = self.removed.get(parent.name, {})
            known |= {(x, e) for x in unknown for e in gone.get(x, ())}
        if not known:
            return out
        xs = sorted({x for x, _ in known})
        ends = [self.period_end(x) for x in xs]
        # each entity's rows are numbered once; an ASOF join gives (x, e) the number k0 of its
        # last row on or before x, and its n-th next row is number k0 + n (capped at x's period
        # end), instead of ranking every later row for every (x, e)
        rows = _grouped(
            con,
            lambda labels: f"""WITH k AS (SELECT unnest(?::DATE[]) AS x, unnest(?::VARCHAR[]) AS e),
                bound AS (SELECT unnest(?::DATE[]) AS x, unnest(?::DATE[]) AS last),
                u AS (SELECT DISTINCT {dc} AS d, {lab}::VARCHAR AS e FROM {t}
                      WHERE {dc} > ? AND {dc} <= ? AND {lab}::VARCHAR IN (SELECT e FROM k)),
                s AS (SELECT d, e, row_number() OVER (PARTITION BY e ORDER BY d) AS seq FROM u),
                k0 AS (SELECT k.x, k.e, coalesce(s.seq, 0) AS k0 FROM k ASOF LEFT JOIN s ON s.e = k.e AND s.d <= k.x)
                SELECT k0.x, b.last, coalesce(least(s.d, b.last), b.last) AS reach, {labels}
                FROM k0 JOIN bound b ON b.x = k0.x LEFT JOIN s ON s.e = k0.e AND s.seq = k0.k0 + {int(n)}
                GROUP BY 1, 2, 3""",
            "k0.e", [[x for x, _ in known], [e for _, e in known], xs, ends, min(xs), max(ends)])
        for x, _, last, labels in rows:  # one set update per (x, reach, day), not one add per label
            for i in range(1, (last - x).days + 1):
                out.setdefault(x + timedelta(days=i), set()).update(labels)
        return out

    def _via(self, via: tuple[str, str], reach: list[tuple[date, set[str] | None]], changes: dict[str, Changes]
             ) -> list[tuple[date, set[str] | None]]:
        """A cross-entity edge: the parent's changed labels on each date d mapped to the labels
        whose row in the `via` table names one of them in its column on d (one query). A date
        stays whole (None) when the parent's labels there are unknown, or when the via table's
        own rows there are being recomputed whole or under a wildcard (its stored rows cannot
        tell who reads what)."""
        table, column = via
        proc = self.registry.by_table[table]
        moving = changes.get(proc.name, {})
        out: list[tuple[date, set[str] | None]] = []
        pairs: set[tuple[date, str]] = set()
        for d, labels in reach:
            unsure = d in moving and (moving[d] is None or WILDCARD in (moving[d] or ()))
            if labels is None or WILDCARD in labels or unsure:
                out.append((d, None))
            else:
                pairs |= {(d, e) for e in labels}
        if pairs:
            dc, lab = check_identifier(proc.date_column), check_identifier(proc.label_column or "")
            found = _by_date(self.wh.con,
                             f"""SELECT DISTINCT v.{dc}, v.{lab}::VARCHAR FROM {check_identifier(table)} v
                                 JOIN (SELECT unnest(?::DATE[]) AS d, unnest(?::VARCHAR[]) AS e) k
                                   ON v.{dc} = k.d AND v.{check_identifier(column)}::VARCHAR = k.e
                                 WHERE v.{dc} BETWEEN ? AND ?""",
                             [[d for d, _ in pairs], [e for _, e in pairs], min(pairs)[0], max(pairs)[0]])
            out += [(d, found.get(d, set())) for d in {d for d, _ in pairs}]
        return out

    def _missing_mentions(self, spec: ProcessorSpec, xs: Sequence[date], skip: Sequence[date] = ()
                          ) -> dict[date, set[str]]:
        """Labels of `spec`'s stored records whose missing_game_dates name any of `xs`, per date
        (dates in `skip` left out)."""
        if not xs or not spec.label_column or not self.has_flag(spec):
            return {}
        dc = check_identifier(spec.date_column)
        within, params = "", [min(xs), max(self.period_end(x) for x in xs), list(xs)]
        if skip:
            within = f" AND {dc} NOT IN (SELECT unnest(?::DATE[]))"
            params.append(sorted(skip))
        return _by_date(
            self.wh.con,
            f"SELECT {dc}, {check_identifier(spec.label_column)}::VARCHAR FROM {check_identifier(spec.output_table)} "
            f"WHERE {dc} > ? AND {dc} <= ? AND list_has_any({STORED_COMPLETENESS}.missing_game_dates, ?::DATE[]){within}",
            params)

    def has_flag(self, spec: ProcessorSpec) -> bool:
        """`spec`'s table has the needs_reprocessing flag (and the stored completeness STRUCT)."""
        if spec.output_table not in self._flagged:
            self._flagged[spec.output_table] = bool(flag_tables(self.wh.con, [spec.output_table]))
        return self._flagged[spec.output_table]

    # -- stored labels ----------------------------------------------------------------------

    def labels_on(self, spec: ProcessorSpec, dates: Sequence[date], records: bool = True) -> dict[date, set[str]]:
        """Labels of `spec`'s tracked failures (and, with `records`, stored records) per date."""
        if not spec.label_column or not dates:
            return {}
        failures = (f"SELECT analysis_date, entity_id FROM {check_identifier(self.wh.catalog.failures_table)} "
                    "WHERE processor_name = ? AND analysis_date IN (SELECT unnest(?::DATE[]))")
        params: list[Any] = [spec.name, list(dates)]
        if records:
            dc = check_identifier(spec.date_column)
            failures = (f"SELECT {dc}, {check_identifier(spec.label_column)}::VARCHAR "
                        f"FROM {check_identifier(spec.output_table)} WHERE {dc} IN (SELECT unnest(?::DATE[])) "
                        f"UNION ALL {failures}")
            params = [list(dates)] + params
        return _by_date(self.wh.con, failures, params)

    def fresh_labels(self, spec: ProcessorSpec, fresh: Fresh | None) -> dict[date, set[str] | None]:
        """Per date, the labels of `spec`'s stored records and tracked failures that `fresh` names
        (by run and date); None (the whole date) for a processor without labels."""
        runs, ds = (fresh or Fresh()).of(spec.name)
        if not runs:
            return {}
        if not spec.label_column:
            return {d: None for d in set(ds)}
        dc = check_identifier(spec.date_column)
        return dict(_by_date(
            self.wh.con,
            f"""SELECT {dc}, {check_identifier(spec.label_column)}::VARCHAR FROM {check_identifier(spec.output_table)}
                WHERE ({dc}, run_id) IN (SELECT unnest(?::DATE[]), unnest(?::VARCHAR[]))
                UNION ALL SELECT analysis_date, entity_id FROM {check_identifier(self.wh.catalog.failures_table)}
                WHERE processor_name = ? AND (analysis_date, run_id) IN (SELECT unnest(?::DATE[]), unnest(?::VARCHAR[]))""",
            [ds, runs, spec.name, ds, runs]))

    def not_succeeded(self, spec: ProcessorSpec, since: date) -> list[date]:
        """Dates from `since` on where `spec`'s latest run failed, was blocked, or was skipped
        because of its upstream (read for every processor at the first call)."""
        return list(self._unfinished(since)[0].get(spec.name, []))

    def ever_unfinished(self, spec: ProcessorSpec, since: date) -> list[date]:
        """Dates from `since` on where some run of `spec` (not only the latest) that triggers its
        readers (the daily flow, not a backfill or a cascade: skip_downstream_trigger false)
        failed, was blocked, or was skipped because of its upstream: the trigger chain stopped
        there, and a parent run by hand later still left its readers unrun."""
        return list(self._unfinished(since)[1].get(spec.name, []))

    def _unfinished(self, since: date) -> tuple[dict[str, list[date]], dict[str, list[date]]]:
        """(latest run unfinished, some triggering run unfinished): per processor, the dates
        from `since` on, from one ledger query for both."""
        if since not in self._not_succeeded:
            table = check_identifier(self.wh.catalog.ledger_table)
            latest: dict[str, list[date]] = {}
            ever: dict[str, list[date]] = {}
            bad = "(status IN ('failed', 'blocked') OR (status = 'skipped' AND skip_reason LIKE 'upstream%'))"
            for name, d, now, why, chain in self.wh.con.execute(
                    f"""SELECT processor_name, data_date, {ledger.latest("status")} AS st,
                               {ledger.latest("skip_reason")} AS why,
                               bool_or({bad} AND NOT coalesce(skip_downstream_trigger, false))
                        FROM {table} WHERE data_date >= ? GROUP BY 1, 2 HAVING bool_or({bad}) ORDER BY 1, 2""",
                    [since]).fetchall():
                if now in ('failed', 'blocked') or (now == 'skipped' and (why or '').startswith('upstream')):
                    latest.setdefault(name, []).append(d)
                if chain:
                    ever.setdefault(name, []).append(d)
            self._not_succeeded[since] = (latest, ever)
        return self._not_succeeded[since]

    def never_ran(self, spec: ProcessorSpec, dates: Sequence[date]) -> list[date]:
        """The dates among `dates` with no ledger row at all for `spec`."""
        if not dates:
            return []
        key = tuple(sorted(set(dates)))
        if key not in self._ran:
            table = check_identifier(self.wh.catalog.ledger_table)
            ran: dict[str, set[date]] = {}
            for name, d in self.wh.con.execute(
                    f"SELECT DISTINCT processor_name, data_date FROM {table} "
                    "WHERE data_date IN (SELECT unnest(?::DATE[]))", [list(key)]).fetchall():
                ran.setdefault(name, set()).add(d)
            self._ran[key] = ran
        return sorted(set(key) - self._ran[key].get(spec.name, set()))

    def orphaned(self, spec: ProcessorSpec, since: date) -> set[date]:
        """Dates from `since` on where `spec` never ran while one of its parents did not finish
        there in a run that triggers its readers (`ever_unfinished`), or is orphaned there
        itself: the trigger chain stopped above `spec`. The daily flow through an outage leaves
        them: phase 2 fails on the day, so nothing below runs there, and the days after it block
        PSZA and TDZA, so PCF, PDC and MLFS never run. Filling the parents must fill these too,
        even past `spec`'s first or last ledger date (`ran_on` lets them through). A backfill's
        or a cascade's unfinished run triggers nothing, so it says nothing about the readers: a
        date the user never built downstream stays unbuilt."""
        key = (spec.name, since)
        if key not in self._orphans:
            unfinished: set[date] = set()
            for parent in self.registry.upstream(spec):
                unfinished |= set(self.ever_unfinished(parent, since))
                unfinished |= self.orphaned(parent, since)
            self._orphans[key] = set(self.never_ran(spec, sorted(unfinished)))
        return self._orphans[key]

    def ran_on(self, spec: ProcessorSpec, dates: Sequence[date]) -> list[date]:
        """The dates among `dates` on which `spec` has work and belongs: inside its history,
        from the first to the last date it ran on or is orphaned on (`orphaned`: the daily
        flow's outage, even on its first or last day). A cascade fills history; it does not
        extend it to dates the user never built downstream (a store whose phase 4 was
        backfilled over part of the range keeps it there). Orphaned dates extend the history:
        a day the daily flow ran with --skip-downstream-trigger, between the last day PCF ran
        and the days the outage after it blocked, is PCF's as it is PSZA's."""
        if not dates:
            return []
        if self._history is None:
            table = check_identifier(self.wh.catalog.ledger_table)
            self._history = {name: (lo, hi) for name, lo, hi in self.wh.con.execute(
                f"SELECT processor_name, min(data_date), max(data_date) FROM {table} GROUP BY 1").fetchall()}
        lo, hi = self._history.get(spec.name, (date.max, date.min))
        orphans = set().union(*(o for (name, _), o in self._orphans.items() if name == spec.name))
        lo, hi = min([lo, *orphans]), max([hi, *orphans])
        inside = {d for d in set(dates) if lo <= d <= hi}
        return self.work_dates(spec, sorted(inside))

    def work_dates(self, spec: ProcessorSpec, dates: Sequence[date]) -> list[date]:
        """runner.work_dates, remembered per work_dates_sql: processors sharing one (game dates)
        query it once per new dates."""
        if not spec.work_dates_sql:
            return sorted(set(dates))
        known = self._work.setdefault(spec.work_dates_sql, {})
        new = sorted(set(dates) - set(known))
        if new:
            has = set(work_dates(self.wh.con, spec, new))
            known.update((d, d in has) for d in new)
        return sorted(d for d in set(dates) if known[d])

    def downstream_of(self, seeds: Iterable[ProcessorSpec]) -> list[ProcessorSpec]:
        """The processors below the seeds, in DAG order; the seeds themselves were reloaded."""
        seeds = list(seeds)
        names: set[str] = set()
        for s in seeds:
            names |= {d.name for d in self.registry.descendants(s)}
        names -= {s.name for s in seeds}
        return [s for s in self.registry.order if s.name in names]


def stale_readers(wh: Warehouse, registry: Registry, runs: Sequence[str], dates: Sequence[date]) -> Fresh | None:
    """Of the rows that `runs` wrote (the runs since `dates` were reloaded, outside finished whole
    cascades), those that must propagate even when they compare equal: a row of processor P on
    date d whose readers may predate it. Its readers live in P's descendants on the dates from d
    to the end of d's period (windows read earlier dates or the same one); if any record or
    tracked failure there was written by a run that started before this run finished, that
    reader may hold what the row's old value gave, so the row propagates. A row that every
    downstream record was computed after (a from-scratch build, the daily flow going forward)
    is consistent with its readers, and early cutoff may stop there.

    Why this is enough: a stale reader X read some upstream row Y before Y was last rewritten.
    If Y's run is one of `runs`, X predates it on a date this rule scans, so Y is named here;
    reprocess makes every named row a candidate of its processor (even when nothing upstream
    of it changed), so Y is recomputed and propagates, and X is recomputed. The ledger's times
    are compared with the ledger's times only (record run ids name their runs); a record whose run is not in the ledger counts as the oldest."""
    if not runs or not dates:
        return None
    period_end = Cascade(wh, registry).period_end
    lo, hi = min(dates), max(period_end(d) for d in dates)
    reach = period_end(hi)  # the readers of a row on a date up to hi live up to the end of its period
    con = wh.con
    ledger = check_identifier(wh.catalog.ledger_table)
    written = [(p, d, r, t) for p, d, r, t in con.execute(
        f"SELECT processor_name, data_date, run_id, max(finished_at) FROM {ledger} "
        "WHERE run_id IN (SELECT unnest(?::VARCHAR[])) AND status = 'success' AND data_date BETWEEN ? AND ? "
        "GROUP BY ALL", [list(runs), lo, hi]).fetchall() if p in registry.by_name]
    readers = {p: [q.name for q in registry.descendants(registry.by_name[p]) if q.name != p]
               for p in {p for p, *_ in written}}
    names = sorted({q for qs in readers.values() for q in qs})
    if not names:
        return None
    parts, params = [], []
    for name in names:
        q = registry.by_name[name]
        dc = check_identifier(q.date_column)
        parts.append(f"SELECT DISTINCT ?::VARCHAR AS p, {dc} AS d, run_id FROM {check_identifier(q.output_table)} "
                     f"WHERE {dc} BETWEEN ? AND ?")
        params += [name, lo, reach]
    parts.append(f"SELECT DISTINCT processor_name, analysis_date, run_id "
                 f"FROM {check_identifier(wh.catalog.failures_table)} "
                 "WHERE processor_name IN (SELECT unnest(?::VARCHAR[])) AND analysis_date BETWEEN ? AND ?")
    params += [names, lo, reach]
    # per reader processor and date, when the run of its oldest record there started
    oldest: dict[str, dict[date, Any]] = {}
    for q, d, t in con.execute(
            f"""SELECT x.p, x.d, min(coalesce(s.t, '-infinity'::TIMESTAMP))
                FROM ({' UNION ALL '.join(parts)}) x
                LEFT JOIN (SELECT run_id, min(started_at) AS t FROM {ledger} GROUP BY run_id) s USING (run_id)
                GROUP BY 1, 2""", params).fetchall():
        oldest.setdefault(q, {})[d] = t
    first = {q: least_within(by_date, period_end) for q, by_date in oldest.items()}
    out: dict[str, list[tuple[str, date]]] = {}
    for p, d, run, finished in written:
        starts = [t for t in (first[q](d) for q in readers[p] if q in first) if t is not None]
        # a run without a finish time may have been running when any reader started
        if starts and (finished is None or min(starts) < finished):
            out.setdefault(p, []).append((run, d))
    return Fresh({p: tuple(pairs) for p, pairs in out.items()}) if out else None


def removed_records(wh: Warehouse, registry: Registry, runs: Sequence[str], dates: Sequence[date]
                    ) -> dict[str, dict[date, frozenset[str]]]:
    """Per processor and date (from the first of `dates` to the end of the last one's period),
    the labels whose records one of `runs` removed (catalog.removed_table): a line corrected
    away, deleted by a daily run or a repair before the cascade. No stored row is left to
    compare or to name them, so the cascade propagates them like changed records."""
    where = _removed_of(wh, registry, runs, dates)
    if where is None:
        return {}
    out: dict[str, dict[date, frozenset[str]]] = {}
    for p, d, labels in wh.con.execute(
            f"SELECT processor_name, data_date, list(DISTINCT entity_id) FROM {where[0]} GROUP BY 1, 2",
            where[1]).fetchall():
        if p in registry.by_name:
            out.setdefault(p, {})[d] = frozenset(labels)
    return out


def forget_removed(con: duckdb.DuckDBPyConnection, wh: Warehouse, registry: Registry, runs: Sequence[str],
                   dates: Sequence[date]) -> None:
    """Delete the entries `removed_records(wh, registry, runs, dates)` reads, inside the caller's
    transaction: a whole cascade that finished without a failed date propagated them, so every
    reader of those records was recomputed without them (one skipped because a gap is still
    open stays a candidate of later cascades: its latest run did not succeed)."""
    where = _removed_of(wh, registry, runs, dates)
    if where is not None:
        con.execute(f"DELETE FROM {where[0]}", where[1])


def _removed_of(wh: Warehouse, registry: Registry, runs: Sequence[str], dates: Sequence[date]
                ) -> tuple[str, list[Any]] | None:
    """The removed-records entries of `runs` from the first of `dates` to the end of the last
    one's period: (table and WHERE clause, parameters); None when there are none to read."""
    table = wh.catalog.removed_table
    if not runs or not dates or not table:
        return None
    period_end = Cascade(wh, registry).period_end
    return (f"{check_identifier(table)} WHERE run_id IN (SELECT unnest(?::VARCHAR[])) AND data_date BETWEEN ? AND ?",
            [list(runs), min(dates), max(period_end(d) for d in dates)])


def least_within(values: dict[date, Any], last: Callable[[date], date]) -> Callable[[date], Any]:
    """f(d): the least of `values` on the dates from d to last(d), both inclusive (None when no
    date of `values` lies there). Pure: `last` maps a date to the end of its period."""
    ds = sorted(values)
    known: dict[date, Any] = {}  # callers ask for the same dates again (one per run and reader)

    def f(d: date) -> Any:
        if d not in known:
            inside = [values[x] for x in ds[bisect.bisect_left(ds, d):bisect.bisect_right(ds, last(d))]]
            known[d] = min(inside) if inside else None
        return known[d]
    return f


_SEP = "\x1f"
"""The unit separator: joins a group's labels into one string (_grouped)."""


def _by_date(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[date, set[str]]:
    """{date: labels} from a query of (date, label) rows, grouped in SQL (see _grouped)."""
    return dict(_grouped(con, lambda labels: f"SELECT d, {labels} FROM ({sql}) AS t(d, e) GROUP BY d", "e", params))


def _grouped(con: duckdb.DuckDBPyConnection, query: Callable[[str], str], label: str, params: list[Any]
             ) -> list[tuple[Any, ...]]:
    """The rows of `query(labels)` (a grouped query whose last column is `labels`, an aggregate
    of the `label` expression), that column as a set. The labels cross into Python as one joined
    string per group, split there: a LIST of thousands of strings converts about twice as
    slowly (10 ms against 5 ms for 15,000 labels). When a group has a NULL label or one holding
    the separator, the query runs again with a LIST."""
    joined = f"string_agg({label}, '{_SEP}'), bool_or({label} IS NULL OR contains({label}, '{_SEP}'))"
    rows = con.execute(query(joined), params).fetchall()
    if any(row[-1] for row in rows):
        return [(*row[:-1], set(row[-1])) for row in con.execute(query(f"list({label})"), params).fetchall()]
    return [(*row[:-2], set(row[-2].split(_SEP))) for row in rows]


def _add(out: dict[date, set[str] | None], d: date, labels: set[str] | None) -> None:
    if d in out and out[d] is None:
        return
    if labels is None:
        out[d] = None
    else:
        out.setdefault(d, set()).update(labels)  # type: ignore[union-attr]


def reprocess(wh: Warehouse, registry: Registry, seeds: dict[str, Sequence[date]], params: dict[str, Any],
              only_dates: set[date] | None = None, progress: Progress | None = None,
              only_labels: dict[str, set[str]] | None = None, batch_size: int | None = None,
              parallel_dates: int = 1, parallel: int = 2, cutoff: bool = True,
              fresh: Fresh | None = None) -> CascadeResult:
    """Recompute the processors downstream of `seeds` ({processor: reloaded dates}) in DAG
    order, only for their candidate records, writing and propagating only records that really
    changed. `only_dates` bounds the dates recomputed (an affected file's dates); `only_labels`
    ({processor: labels}) restricts those processors to the given labels (e.g. `--players`).
    `batch_size` splits each processor's dates into runs of at most that many dates (each its
    own transaction: bounded memory, and progress that survives an interruption);
    `parallel_dates` computes up to that many batches at once on their own cursors (commits
    stay serial). The processors of one DAG level (independent of each other) run up to
    `parallel` at once on their own cursors, as backfill's `--parallel` does; commits stay
    serial and the tables are the same as a serial run's. Runs are recorded with
    triggered_by='cascade'.

    Without `cutoff`, every candidate record propagates as changed, not only the ones whose
    recomputed values differ (what detect assumes): the resume of an interrupted reprocess,
    whose committed processors compare equal to what they already wrote. `fresh`: the stored
    rows that propagate even when they compare equal (stale_readers, scope.write_changes)."""
    t0 = time.perf_counter()
    cas = Cascade(wh, registry)
    cas.removed = fresh.removed if fresh else {}
    seeds = _with_work(cas, seeds)
    seed_specs = [registry.by_name[n] for n in seeds]
    changes: dict[str, Changes] = {n: {d: ALL for d in ds} for n, ds in seeds.items()}
    result = CascadeResult(sorted({d for ds in seeds.values() for d in ds}))
    if not result.seed_dates:
        return result
    options = RunOptions(backfill_mode=True, strict_mode=False, skip_downstream_trigger=True,
                         triggered_by="cascade")
    plan = cas.downstream_of(seed_specs)
    # Early cutoff compares a recomputed record with the stored one, which is right only if the
    # records that read it were computed from it. A record recomputed from the reloaded data
    # outside this cascade (a daily run of the late day, a manual backfill, an interrupted or
    # --players reprocess) breaks that: it compares equal while its readers are stale. Such
    # rows are `fresh` (the caller finds them with stale_readers) and propagate too.
    done = 0
    for level in levels(registry, plan):
        if progress:
            progress(" + ".join(s.name for s in level), done, len(plan))
        # each processor's candidates come from its parents' changes, all in earlier levels:
        # decided here, on the main connection, before the level's processors run
        jobs = [_job(cas, spec, changes, result.seed_dates, only_dates, only_labels, fresh) for spec in level]
        runnable = [j for j in jobs if j.dates]
        for job in jobs:
            if not job.dates and job.clear:  # no candidate: every date proved current (but those left)
                with wh.transaction() as con:
                    job.hook(con, "", [])

        def run(job: _Job, con: duckdb.DuckDBPyConnection | None) -> _Job:
            t = time.perf_counter()
            job.change.recomputed, job.change.changed, job.fresh, job.change.failed = _run_batches(
                wh, job.spec, job.dates, options, params, job.scope, job.hook, batch_size, parallel_dates,
                job.skips, con, fresh)
            job.seconds = time.perf_counter() - t
            return job

        if parallel > 1 and len(runnable) > 1:
            cursors = [wh.con.cursor() for _ in runnable]
            try:
                with ThreadPoolExecutor(max_workers=min(parallel, len(runnable))) as pool:
                    list(pool.map(run, runnable, cursors))
            finally:
                for cur in cursors:
                    cur.close()
        else:
            for job in runnable:
                run(job, None)
        for job in jobs:
            moved = _propagated(job, cutoff, cas)
            if moved:
                changes[job.spec.name] = moved
            job.change.seconds = job.prepare + job.seconds
            result.processors.append(job.change)
        done += len(level)
    if progress:
        progress("", len(plan), len(plan))
    result.seconds = time.perf_counter() - t0
    return result


def _propagated(job: _Job, cutoff: bool, cas: Cascade) -> Changes:
    """What `job`'s processor passes on to its readers: the labels that changed, those whose
    stored rows may be newer than their readers (`job.fresh`, see stale_readers), those whose
    records a run removed before the cascade (`cas.removed`), and every candidate without
    `cutoff` (None: the whole date).

    A date passed on whole has no labels: its readers' windows find its entities among the
    stored rows and `cas.removed` (_next_games), and a record this run deleted is in neither.
    The labels it would have passed on join `cas.removed` (a superset: stored ones add nothing)."""
    own = dict(cas.removed.get(job.spec.name, {}))
    moved: Changes = {d: set(es) for d, es in job.change.changed.items()}
    for d, es in own.items():
        moved[d] = (moved.get(d) or set()) | es
    for d, es in job.fresh.items():
        moved[d] = (moved.get(d) or set()) | es
    job.change.fresh_count = sum(len(es) for es in job.fresh.values())
    if not cutoff:
        for d in job.dates:
            wanted = job.cand.get(d)
            if wanted is None:
                if moved.get(d):
                    own[d] = frozenset(moved[d])
                moved[d] = None
            else:
                moved[d] = (moved.get(d) or set()) | wanted | job.scope.get(d, set())
        cas.removed = {**cas.removed, job.spec.name: own}
    return moved


@dataclass
class _Job:
    """One processor's share of a reprocess level: what to recompute and how it went."""

    spec: ProcessorSpec
    change: ProcessorChange
    dates: list[date]
    scope: dict[date, set[str]]
    clear: tuple[str, list[Any]] | None
    skips: dict[date, tuple[str, str]]
    cand: dict[date, set[str] | None] = field(default_factory=dict)
    left: list[date] = field(default_factory=list)
    fresh: dict[date, set[str]] = field(default_factory=dict)
    prepare: float = 0.0
    seconds: float = 0.0

    def hook(self, con: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[Any]) -> None:
        """Inside each batch's write transaction: clear the flags on the dates it recomputed
        successfully, and on the dates without a candidate (their inputs did not change; their
        parents finished before this processor started, so any batch may clear them). A failed
        or skipped date keeps its flags, and so does every date a batch did not reach."""
        if not self.clear:
            return
        sql, params = self.clear
        dc = check_identifier(self.spec.date_column)
        con.execute(f"{sql} AND ({dc} IN (SELECT unnest(?::DATE[])) OR {dc} NOT IN (SELECT unnest(?::DATE[])))",
                    [*params, [r.data_date for r in rows if r.status == "success"], [*self.dates, *self.left]])


def _job(cas: Cascade, spec: ProcessorSpec, changes: dict[str, Changes], seed_dates: Sequence[date],
         only_dates: set[date] | None, only_labels: dict[str, set[str]] | None, fresh: Fresh | None = None) -> _Job:
    """The dates and labels `spec` recomputes given its parents' `changes`, plus its `fresh`
    rows: they must reach their readers even when nothing upstream of them changed (a
    processor rewritten by hand after the records that read it)."""
    t = time.perf_counter()
    cand = cas.candidates(spec, changes, min(seed_dates), seed_dates)
    for d, labels in cas.fresh_labels(spec, fresh).items():
        _add(cand, d, labels)
    dates = cas.ran_on(spec, [d for d in sorted(cand) if only_dates is None or d in only_dates])
    scope = _scope(cas, spec, cand, dates)
    allowed = (only_labels or {}).get(spec.name)
    left: list[date] = []
    if allowed is not None and spec.label_column:
        # a date whose latest run did not succeed holds no (or old) records of the others: some
        # players' records there would record the date as done. It is left for a full cascade.
        unfinished = set(cas.not_succeeded(spec, min(seed_dates))) | set(cas.never_ran(spec, seed_dates))
        scope = {d: (scope[d] if d in scope else set(allowed)) & allowed for d in dates}
        left = [d for d in dates if scope[d] and d in unfinished]
        dates = [d for d in dates if scope[d] and d not in unfinished]
    hi = max(cas.period_end(d) for d in [*seed_dates, *dates])  # as far as detect can reach
    clear = _clear_flags(cas, spec, min(seed_dates), hi, only_dates, allowed)
    # a date whose upstream still did not succeed (another gap still open) is skipped,
    # exactly as a rebuild's skip-deps backfill leaves it
    skips = upstream_skips(cas.wh, cas.registry, spec, dates) if dates else {}
    return _Job(spec, ProcessorChange(spec.name, dates, left=left), dates, scope, clear, skips, cand, left,
                prepare=time.perf_counter() - t)


def _clear_flags(cas: Cascade, spec: ProcessorSpec, lo: date, hi: date, only_dates: set[date] | None,
                 labels: set[str] | None) -> tuple[str, list[Any]] | None:
    """The UPDATE (SQL, parameters) clearing needs_reprocessing on `spec`'s records in [lo, hi]
    (inclusive), within `only_dates` and `labels` when given: the cascade recomputed the ones
    whose inputs changed and proved the others current. `_Job.hook` narrows it to the dates a
    batch recomputed and the dates without a candidate. None when `spec` has no flag."""
    if not cas.has_flag(spec):
        return None
    t = check_identifier(spec.output_table)
    dc = check_identifier(spec.date_column)
    where, params = [f"{dc} BETWEEN ? AND ?", FLAG], [lo, hi]
    if only_dates is not None:
        where.append(f"{dc} IN (SELECT unnest(?::DATE[]))")
        params.append(sorted(only_dates))
    if labels is not None and spec.label_column:
        where.append(f"{check_identifier(spec.label_column)}::VARCHAR IN (SELECT unnest(?::VARCHAR[]))")
        params.append(sorted(labels))
    return f"UPDATE {t} SET {FLAG} = false WHERE {' AND '.join(where)}", params


def _run_batches(wh: Warehouse, spec: ProcessorSpec, dates: Sequence[date], options: RunOptions,
                 params: dict[str, Any], scope: dict[date, set[str]], hook: Callable[..., None],
                 batch_size: int | None, parallel_dates: int, skips: dict[date, tuple[str, str]],
                 con: duckdb.DuckDBPyConnection | None = None,
                 fresh: Fresh | None = None
                 ) -> tuple[int, dict[date, set[str]], dict[date, set[str]], list[date]]:
    """Run `spec` over `dates` in batches (see reprocess) on `con` (default the main connection);
    `skips` are recorded, not computed. Returns (records recomputed, changed labels, fresh
    labels, failed dates)."""
    size = batch_size or len(dates)
    batches = [list(dates[i:i + size]) for i in range(0, len(dates), size)]

    def one(batch: list[date], cur: duckdb.DuckDBPyConnection | None) -> Any:
        part = {d: scope[d] for d in batch if d in scope}
        preset = {d: skips[d] for d in batch if d in skips}
        return run_processor(wh, spec, batch, options, dict(params), cur, preset=preset or None, scope=part,
                             on_commit=hook, have_work=True,  # the dates come from Cascade.ran_on
                             fresh=fresh)

    if parallel_dates > 1 and len(batches) > 1:
        cursors = [(con or wh.con).cursor() for _ in range(min(parallel_dates, len(batches)))]
        free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for cur in cursors:
            free.put(cur)

        def on_free_cursor(batch: list[date]) -> Any:
            cur = free.get()  # a cursor is used by one batch at a time
            try:
                return one(batch, cur)
            finally:
                free.put(cur)

        try:
            with ThreadPoolExecutor(max_workers=len(cursors)) as pool:
                runs = list(pool.map(on_free_cursor, batches))
        finally:
            for cur in cursors:
                cur.close()
    else:
        runs = [one(batch, con) for batch in batches]
    changed: dict[date, set[str]] = {}
    equal_but_fresh: dict[date, set[str]] = {}
    for run in runs:
        for out, got in ((changed, run.changed), (equal_but_fresh, run.fresh)):
            for d, labels in got.items():
                out.setdefault(d, set()).update(labels)
    return sum(run.recomputed for run in runs), changed, equal_but_fresh, sorted(d for run in runs for d in run.failed)


def _scope(cas: Cascade, spec: ProcessorSpec, cand: dict[date, set[str] | None], dates: Sequence[date]
           ) -> dict[date, set[str]]:
    """The labels to recompute on each restricted date: the candidates plus the entities with a
    tracked failure there. Whole dates are left out (every entity)."""
    restricted = [d for d in dates if cand.get(d) is not None]
    failing = cas.labels_on(spec, restricted, records=False)
    return {d: set(cand[d] or ()) | failing.get(d, set()) for d in restricted}


def detect(wh: Warehouse, registry: Registry, seeds: dict[str, Sequence[date]],
           removed: Mapping[str, Mapping[date, frozenset[str]]] | None = None) -> CascadeResult:
    """Predict, without recomputing, every record (processor, date, label) whose inputs change
    when the seeds' dates are (re)loaded: on a whole candidate date every stored record and
    tracked failure (or the wildcard when none is stored) plus the labels the reloaded
    upstream data carries; on a restricted date its labels and its tracked failures.
    `removed` (removed_records): labels whose records a run removed before the cascade; they
    reach their readers like changed ones."""
    t0 = time.perf_counter()
    cas = Cascade(wh, registry)
    seeds = _with_work(cas, seeds)
    seed_specs = [registry.by_name[n] for n in seeds]
    changes: dict[str, Changes] = {}
    if not any(seeds.values()):
        return CascadeResult([])
    for name, ds in seeds.items():
        spec = registry.by_name[name]
        stored = cas.labels_on(spec, ds)
        changes[name] = {d: stored.get(d, set()) for d in ds}
    result = CascadeResult(sorted({d for ds in seeds.values() for d in ds}))
    for spec in cas.downstream_of(seed_specs):
        cand, carried = cas.trace(spec, changes, min(result.seed_dates), result.seed_dates)
        dates = cas.ran_on(spec, sorted(cand))
        change = ProcessorChange(spec.name, dates)
        inherited = _inherited(cas, registry, spec, changes)
        whole = [d for d in dates if cand[d] is None]
        stored = cas.labels_on(spec, whole)
        named = _named_entities(cas, spec, [d for d in whole if not stored.get(d)], changes)
        scope = _scope(cas, spec, cand, dates)
        for d in dates:
            if cand[d] is None:
                if stored.get(d):
                    change.changed[d] = stored[d] | inherited.get(d, set()) | carried.get(d, set())
                    change.whole.add(d)
                elif d not in named:
                    change.changed[d] = {WILDCARD}
                elif named[d] | carried.get(d, set()):
                    change.changed[d] = named[d] | carried.get(d, set())
            else:
                change.changed[d] = scope[d]
        changes[spec.name] = {d: set(v) for d, v in change.changed.items()}
        for d, labels in (removed or {}).get(spec.name, {}).items():  # records removed before: they reach readers
            changes[spec.name][d] = changes[spec.name].get(d, set()) | labels
        change.recomputed = change.changed_count
        result.processors.append(change)
    result.seconds = time.perf_counter() - t0
    return result


def _named_entities(cas: Cascade, spec: ProcessorSpec, dates: Sequence[date], changes: dict[str, Changes]
                    ) -> dict[date, set[str]]:
    """On `dates` (where nothing of `spec` is stored), the labels its `entities_from` table has
    or may now have there: its stored labels plus the ones detected as changed. A date is
    left out (every entity: the wildcard) when that table's own changes there are unnamed."""
    parent = cas.registry.by_table.get(spec.entities_from or "")
    if parent is None or not dates:
        return {}
    own = changes.get(parent.name, {})
    stored = cas.labels_on(parent, dates)
    out: dict[date, set[str]] = {}
    for d in dates:
        changed = own.get(d, set())
        if changed is None or WILDCARD in changed:
            continue
        out[d] = stored.get(d, set()) | changed
    return out


def precision(wh: Warehouse, registry: Registry, detected: CascadeResult, changed: CascadeResult) -> float:
    """Detected records that really changed / detected records. A wildcard counts as what it
    stands for: every record and tracked failure its processor has on its date (in `wh`, after
    the reprocess)."""
    named = {r for r in detected.records() if r[2] != WILDCARD}
    wild = {(p, d) for p, d, e in detected.records() if e == WILDCARD}
    real = changed.records()
    size = 0
    for p in {p for p, _ in wild}:  # one query per processor over its wildcard dates
        spec, ds = registry.by_name[p], sorted(d for q, d in wild if q == p)
        size += wh.con.execute(
            f"SELECT (SELECT count(*) FROM {check_identifier(spec.output_table)} "
            f"WHERE {check_identifier(spec.date_column)} IN (SELECT unnest(?::DATE[])))"
            f" + (SELECT count(*) FROM {check_identifier(wh.catalog.failures_table)} WHERE processor_name = ? "
            "AND analysis_date IN (SELECT unnest(?::DATE[])))", [ds, p, ds]).fetchall()[0][0]
    hits = len(named & real) + sum(1 for p, d, _ in real if (p, d) in wild)
    return hits / (len(named) + size) if named or size else 1.0


def _with_work(cas: Cascade, seeds: dict[str, Sequence[date]]) -> dict[str, list[date]]:
    """The seeds restricted to the dates each seed processor has work on (e.g. game dates)."""
    return {n: cas.work_dates(cas.registry.by_name[n], list(ds)) if ds else [] for n, ds in seeds.items()}


def _inherited(cas: Cascade, registry: Registry, spec: ProcessorSpec, changes: dict[str, Changes]
               ) -> dict[date, set[str]]:
    """Labels a record of `spec` may gain from upstream changes: a parent's changed labels,
    carried forward through the dependency's window, when the specs declare that they name
    the same kind of entity: the parent has the same label column, or it is `spec`'s
    `entities_from` table (a team box score's team_abbr names a defending_team_abbr). Any other
    parent's labels name other entities (a player box score's players are not team records)."""
    out: dict[date, set[str]] = {}
    if not spec.label_column:
        return out
    for dep in spec.dependencies:
        parent = registry.by_table.get(dep.table)
        if parent is None or parent.name not in changes or not parent.label_column:
            continue
        if parent.label_column != spec.label_column and dep.table != spec.entities_from:
            continue
        for x, labels in changes[parent.name].items():
            if not labels or dep.window.kind == "last_n_games":
                continue
            for d in forward_dates(dep.window, x, cas.period_end(x)):
                out.setdefault(d, set()).update(labels)
    return out
