"""Backfill mode: processors over a set of dates in dependency order, with error policies,
resumable checkpoints and an optional in-process cascade of triggers.

Backfill mode skips the defensive checks and publishes no triggers unless asked
(`trigger_downstream`). Work is planned as steps (processor, chunk of dates); each step's
output, ledger rows and checkpoint commit in one transaction, so a killed backfill resumes
after the last committed step and never duplicates rows.

Orders: `phase-first` runs each processor over the whole range before the next (seed 003);
`date-first` runs every processor for one date before the next date (seed 002).
A date on which one of the processor's parents did not succeed (its latest run failed, was
blocked, or was skipped because of its own upstream) is never computed. Error policies:
`skip-deps` records it as skipped and goes on; `stop` and `continue` record it as blocked (the
status strict mode gives a run whose upstream failed: `BLOCKED: Upstream Failure`) and count it
as a failure. `stop` ends the backfill at the first failed or blocked date: that processor
writes nothing from that date on and no processor starts after it (with date-first, no later
date runs at all); `continue` runs everything and lists the failures.

Listed dates (`explicit`, the CLI's `--dates`) run again even when a checkpoint says they are
done, as `resume=False` does; a range resumes.
"""
from __future__ import annotations

import hashlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Sequence

import duckdb

from fullcourt.context import locate
from fullcourt.dates import date_range, format_dates
from fullcourt.engine import ledger
from fullcourt.engine.alerts import Alert, Notifier
from fullcourt.engine.checks import UPSTREAM_FAILURE
from fullcourt.engine.ledger import LedgerRow
from fullcourt.engine.runner import OnCommit, ProcessorResult, RunOptions, run_processor, work_dates
from fullcourt.engine.spec import ProcessorSpec, Registry, levels
from fullcourt.engine.triggers import Flow, publisher, topic_for
from fullcourt.engine.warehouse import Warehouse, check_identifier

POLICIES = ("stop", "continue", "skip-deps")
ORDERS = ("phase-first", "date-first")
DEFAULT_POLICY, DEFAULT_ORDER = "skip-deps", "phase-first"
NOT_DONE = ("failed", "blocked")  # statuses a backfill counts as failures: retried, and `stop` ends on them
NOT_RUN = "not run"
"""A parent's state on a date it has work on but no ledger row for (never loaded)."""
Progress = Callable[[str, int, int], None]


@dataclass
class BackfillRequest:
    """What to backfill: processors (DAG order), dates, and how."""

    specs: list[ProcessorSpec]
    dates: list[date]
    target: str  # "--phase N" or "--processor NAME": how to name the command for retries
    policy: str = DEFAULT_POLICY
    order: str = DEFAULT_ORDER
    resume: bool = True
    chunk_days: int = 31
    parallel: int = 2
    trigger_downstream: bool = False
    explicit: bool = False
    """The dates were listed one by one (`--dates`): run them all again, ignoring the checkpoint."""
    skip_preflight: bool = False
    """Only to name the command again (the preflight runs before the backfill, in the API)."""
    cascade: bool = False
    """Only to name the command again (`--cascade`: the CLI cascades the loaded dates after)."""

    @property
    def checkpoint_id(self) -> str:
        key = json.dumps([[s.name for s in self.specs], [d.isoformat() for d in self.dates], self.order])
        return hashlib.sha1(key.encode()).hexdigest()[:12]

    @property
    def is_range(self) -> bool:
        """A range (not listed dates) of every day from the first date to the last: rerunning
        its command resumes from the checkpoint."""
        return not self.explicit and bool(self.dates) and self.dates == date_range(self.dates[0], self.dates[-1])

    def command(self, dates: Sequence[date] | None = None) -> str:
        """`fullcourt backfill <target> --dates <dates>` (default: all the request's dates)."""
        ds = dates if dates is not None else self.dates
        return f"fullcourt backfill {self.target} --dates {format_dates(ds)}"

    def rerun_command(self, dates: Sequence[date] | None = None) -> str:
        """This backfill's command with the options that shape it (error policy, order, triggers,
        preflight), over `dates` as `--dates`, or by default over the request's own dates: a
        range as `--start-date/--end-date`, which resumes from the checkpoint when rerun."""
        if dates is None and self.is_range:
            where = f"--start-date {self.dates[0]} --end-date {self.dates[-1]}"
        else:
            where = f"--dates {format_dates(self.dates if dates is None else dates)}"
        options = [
            f"--error-policy {self.policy}" if self.policy != DEFAULT_POLICY else "",
            f"--order {self.order}" if self.order != DEFAULT_ORDER else "",
            "--trigger-downstream" if self.trigger_downstream else "",
            "--skip-preflight" if self.skip_preflight else "",
            "--cascade" if self.cascade else "",
        ]
        return " ".join(["fullcourt backfill", self.target, where, *filter(None, options)])


@dataclass
class BackfillReport:
    """Outcome of a backfill: runs per processor, what was resumed, what is left to retry."""

    request: BackfillRequest
    runs: list[ProcessorResult] = field(default_factory=list)
    resumed: dict[str, date] = field(default_factory=dict)
    stopped_at: date | None = None
    messages: int = 0
    unfinished: list[date] = field(default_factory=list)
    """After a stop: the dates some processor has still to run (failed, blocked or not reached)."""
    upstream_fix: dict[int, set[date]] = field(default_factory=dict)
    """Blocked dates and dates skipped for their upstream: the phases to backfill them in first
    (from the failed or never-run upstream's phase)."""
    upstream_processors: dict[str, set[date]] = field(default_factory=dict)
    """... and the ancestors of the processor's own phase that this backfill does not run and
    that did not succeed there (they need `--processor`), in DAG order."""

    def _dates(self, status: str, reason_prefix: str | None = None) -> list[date]:
        return sorted({
            r.data_date for p in self.runs for r in p.rows
            if r.status == status and (reason_prefix is None or (r.skip_reason or "").startswith(reason_prefix))
        })

    @property
    def failed_dates(self) -> list[date]:
        return self._dates("failed")

    @property
    def blocked_dates(self) -> list[date]:
        """Dates not computed because an upstream did not succeed (policies stop and continue)."""
        return self._dates("blocked")

    @property
    def skipped_for_upstream(self) -> list[date]:
        return self._dates("skipped", "upstream")

    @property
    def retry_dates(self) -> list[date]:
        return sorted(set(self.failed_dates) | set(self.blocked_dates) | set(self.skipped_for_upstream))

    @property
    def ok(self) -> bool:
        return not self.retry_dates

    def upstream_command(self) -> str | None:
        """The backfills that reload the upstream of the blocked and skipped dates, lowest phase first."""
        return " && ".join([f"fullcourt backfill --phase {p} --dates {format_dates(ds)}"
                            for p, ds in sorted(self.upstream_fix.items())]
                           + [f"fullcourt backfill --processor {name} --dates {format_dates(ds)}"
                              for name, ds in self.upstream_processors.items()]) or None

    @property
    def resumes(self) -> bool:
        """After a stop, the retry command is this backfill's own command, which resumes."""
        return self.stopped_at is not None and self.request.is_range

    def retry_command(self) -> str | None:
        """What to run once the cause is fixed. After a stop: the same command when it is a range
        (it resumes at the stopped date from the checkpoint), else the listed dates that are not
        finished; otherwise the failed, blocked and skipped dates."""
        if self.ok:
            return None
        if self.stopped_at is not None:
            return self.request.rerun_command() if self.resumes else self.request.rerun_command(
                self.unfinished or self.retry_dates)
        return self.request.command(self.retry_dates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkpoint_id": self.request.checkpoint_id,
            "order": self.request.order,
            "error_policy": self.request.policy,
            "dates": [d.isoformat() for d in self.request.dates],
            "ok": self.ok,
            "failed_dates": [d.isoformat() for d in self.failed_dates],
            "blocked_dates": [d.isoformat() for d in self.blocked_dates],
            "skipped_for_upstream": [d.isoformat() for d in self.skipped_for_upstream],
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "unfinished_dates": [d.isoformat() for d in self.unfinished],
            "resumed_after": {p: d.isoformat() for p, d in self.resumed.items()},
            "retry": locate(self.retry_command()),  # with the command's own --db / --landing
            "upstream_retry": locate(self.upstream_command()),
            "messages_consumed": self.messages,
            "processors": [p.to_dict() for p in self.runs],
        }


# --- checkpoints ------------------------------------------------------------------------------


def load_checkpoints(wh: Warehouse, checkpoint_id: str) -> dict[str, dict[str, Any]]:
    """Checkpoint rows of a backfill, by processor."""
    table = check_identifier(wh.catalog.checkpoints_table)
    rows = wh.con.execute(
        f"SELECT processor, last_completed_date, dates_done, dates_total, failed_dates, status, updated_at, command "
        f"FROM {table} WHERE checkpoint_id = ?",
        [checkpoint_id],
    ).fetchall()
    keys = ("processor", "last_completed_date", "dates_done", "dates_total", "failed_dates", "status", "updated_at",
            "command")
    return {r[0]: dict(zip(keys, r)) for r in rows}


def unfinished(dates: Sequence[date], mark: dict[str, Any] | None) -> list[date]:
    """The dates among `dates` a processor has still to run given its checkpoint row `mark`
    (None: not started): after its last completed date, or listed for retry."""
    if not mark or not mark["last_completed_date"]:
        return list(dates)
    last, retry = mark["last_completed_date"], set(mark["failed_dates"] or [])
    return [d for d in dates if d > last or d in retry]


def clear_checkpoints(wh: Warehouse, checkpoint_id: str) -> None:
    table = check_identifier(wh.catalog.checkpoints_table)
    with wh.transaction() as con:
        con.execute(f"DELETE FROM {table} WHERE checkpoint_id = ?", [checkpoint_id])


def _checkpointer(table: str, request: BackfillRequest, spec: ProcessorSpec, total: int,
                  step_dates: Sequence[date], final: bool) -> OnCommit:
    """On-commit hook: advance `spec`'s checkpoint past the step.

    `last_completed_date` moves to the end of the step (with `stop`, to the day before the
    failure, so a resume retries it); `failed_dates` keeps the dates still to retry (failed,
    blocked, or skipped because their upstream failed) and drops those that now succeeded;
    `dates_done` counts the request's dates up to the last completed one that are not still to
    retry; `command` is the command that resumes it (`BackfillRequest.rerun_command`).
    """
    table = check_identifier(table)

    def write(con: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[LedgerRow]) -> None:
        prev = con.execute(
            f"SELECT last_completed_date, coalesce(failed_dates, []::DATE[]) FROM {table} "
            f"WHERE checkpoint_id = ? AND processor = ?",
            [request.checkpoint_id, spec.name],
        ).fetchall()
        prev_last, retry = (prev[0][0], set(prev[0][1])) if prev else (None, set())
        new_failures = {r.data_date for r in rows if r.status in NOT_DONE}
        upstream = {r.data_date for r in rows if r.status == "skipped" and (r.skip_reason or "").startswith("upstream")}
        retry = (retry - set(step_dates)) | new_failures | upstream
        stopped = bool(new_failures) and request.policy == "stop"
        last = min(new_failures) - timedelta(days=1) if stopped else max(step_dates)
        if prev_last and prev_last > last:
            last = prev_last
        done = sum(1 for d in request.dates if d <= last and d not in retry)
        state = "stopped" if stopped else ("complete" if not retry else "complete_with_failures") if final else "running"
        con.execute(f"DELETE FROM {table} WHERE checkpoint_id = ? AND processor = ?",
                    [request.checkpoint_id, spec.name])
        con.execute(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [request.checkpoint_id, request.rerun_command(), spec.name, last, done, total, sorted(retry), state,
             datetime.now()],
        )

    return write


def _chain(*hooks: OnCommit | None) -> OnCommit:
    def run(con: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[LedgerRow]) -> None:
        for hook in hooks:
            if hook:
                hook(con, run_id, rows)

    return run


# --- the plan and its execution ---------------------------------------------------------------


def _chunks(dates: Sequence[date], days: int) -> list[list[date]]:
    """Consecutive groups of dates, each spanning at most `days` calendar days."""
    out: list[list[date]] = []
    for d in sorted(dates):
        if out and (d - out[-1][0]).days < days:
            out[-1].append(d)
        else:
            out.append([d])
    return out


class Backfill:
    """Executes a BackfillRequest against a warehouse."""

    def __init__(self, wh: Warehouse, registry: Registry, request: BackfillRequest, options: RunOptions,
                 params: dict[str, Any], progress: Progress | None = None) -> None:
        self.wh = wh
        self.registry = registry
        self.req = request
        self.options = options
        self.params = params
        self.progress = progress
        self.report = BackfillReport(request)
        self.stop = threading.Event()
        self.notifier = Notifier(wh.catalog.alerts_table) if wh.catalog.alerts_table else None
        self.lock = threading.Lock()

    def run(self) -> BackfillReport:
        req = self.req
        if not req.resume or req.explicit:
            clear_checkpoints(self.wh, req.checkpoint_id)
        marks = load_checkpoints(self.wh, req.checkpoint_id)
        self.todo: dict[str, list[date]] = {}
        for spec in req.specs:
            mark = marks.get(spec.name)
            if mark and mark["last_completed_date"]:
                self.report.resumed[spec.name] = mark["last_completed_date"]
            self.todo[spec.name] = unfinished(req.dates, mark)
        if req.order == "date-first":
            self._date_first()
        else:
            self._phase_first()
        if self.report.stopped_at is not None:
            marks = load_checkpoints(self.wh, req.checkpoint_id)
            self.report.unfinished = sorted({d for s in req.specs for d in unfinished(req.dates, marks.get(s.name))})
        if req.trigger_downstream and not self.stop.is_set():
            flow = Flow(self.wh, self.registry, self.options, self.params)
            # unique per dispatch: a rerun of the same command must not own a killed run's claims
            self.report.messages = flow.dispatch(f"backfill-{req.checkpoint_id}-{uuid.uuid4().hex[:8]}").messages
            self.report.runs.extend(flow.result.runs)
        return self.report

    def _phase_first(self) -> None:
        plan = levels(self.registry, self.req.specs)
        total = len(self.req.specs)
        done = 0
        for level in plan:
            if self.stop.is_set():
                break
            if self.progress:
                self.progress(" + ".join(s.name for s in level), done, total)
            if self.req.parallel > 1 and len(level) > 1:
                with ThreadPoolExecutor(max_workers=min(self.req.parallel, len(level))) as pool:
                    list(pool.map(self._spec_all_chunks, level))
            else:
                for spec in level:
                    self._spec_all_chunks(spec)
            done += len(level)
        if self.progress:
            self.progress("", total, total)

    def _spec_all_chunks(self, spec: ProcessorSpec) -> None:
        con = self.wh.con.cursor() if self.req.parallel > 1 else None
        try:
            todo = self.todo[spec.name]
            total = len(self.req.dates)
            chunks = _chunks(todo, self.req.chunk_days)
            for i, chunk in enumerate(chunks):
                if self.stop.is_set():
                    return
                self._step(spec, chunk, total, final=i == len(chunks) - 1, con=con)
        finally:
            if con is not None:
                con.close()

    def _date_first(self) -> None:
        all_dates = sorted({d for ds in self.todo.values() for d in ds})
        for i, d in enumerate(all_dates):
            if self.progress:
                self.progress(f"date {d}", i, len(all_dates))
            for spec in self.req.specs:
                if self.stop.is_set():
                    return
                if d in self.todo[spec.name]:
                    self._step(spec, [d], len(self.req.dates), final=d == self.todo[spec.name][-1])
        if self.progress:
            self.progress("", len(all_dates), len(all_dates))

    def _step(self, spec: ProcessorSpec, dates: list[date], total: int, final: bool,
              con: duckdb.DuckDBPyConnection | None = None) -> None:
        c = con or self.wh.con
        stop = self.req.policy == "stop"
        upstream = upstream_not_ok(self.wh, self.registry, spec, dates, c)
        # the dates among them that would have run (work, not skipped by design)
        due = [d for d in work_dates(c, spec, list(upstream)) if not (spec.skip_reason and spec.skip_reason(d))] \
            if upstream and self.req.policy != "continue" else []  # continue uses neither
        if self.req.policy == "skip-deps":
            preset = {d: ("skipped", _upstream_reason(p, st, d)) for d, (p, st) in upstream.items()}
            with self.lock:  # the report names the upstream backfills that let them run
                self._upstream_fix(spec, {d: upstream[d] for d in due}, c)
        else:
            preset = {d: ("blocked", f"BLOCKED: {UPSTREAM_FAILURE}: {spec.name} for {d}: {_upstream_reason(p, st, d)}")
                      for d, (p, st) in upstream.items()}
            if stop and due:  # the first blocked date is the first failure: nothing after it runs
                dates = [d for d in dates if d <= min(due)]
        hooks = [_checkpointer(self.wh.catalog.checkpoints_table, self.req, spec, total, dates, final)]
        if self.req.trigger_downstream:
            hooks.append(publisher(self.wh.catalog.outbox_table, topic_for(self.registry, spec)))
        res = run_processor(self.wh, spec, dates, self.options, self.params, con=c, preset=preset,
                            stop_at_failure=stop, on_commit=_chain(*hooks))
        with self.lock:
            self._merge(res)
            not_done = [r for r in res.rows if r.status in NOT_DONE]
            if not_done:
                self._alert(spec, not_done, upstream, c)
            if not_done and stop:
                first = min(r.data_date for r in not_done)
                self.report.stopped_at = min(first, self.report.stopped_at or first)
                self.stop.set()

    def _alert(self, spec: ProcessorSpec, rows: Sequence[LedgerRow], upstream: dict[date, tuple[str, str]],
               con: duckdb.DuckDBPyConnection) -> None:
        """Record the upstream phases of blocked dates in the report, and alert: `critical` for a
        blocked date (remedy: its upstream, then this backfill), `error` for a failed one. With
        `stop` the remedy ends with the command that finishes the backfill."""
        then = self.req.rerun_command() if self.req.policy == "stop" else None
        blocked = [r.data_date for r in rows if r.status == "blocked"]
        fixes = self._upstream_fix(spec, {d: upstream[d] for d in blocked}, con)
        alerts = []
        for r in rows:
            d = r.data_date
            retry = then or self.req.command([d])
            if r.status == "blocked":
                phases, same = fixes[d]
                fix = [f"fullcourt backfill --phase {p} --dates {d}" for p in phases]
                fix += [f"fullcourt backfill --processor {name} --dates {d}" for name in same]
                alerts.append(Alert("critical", spec.name, d, r.errors[0], " && ".join([*fix, retry])))
            else:
                alerts.append(Alert("error", spec.name, d, f"FAILED: {spec.name} for {d} (backfill)", retry))
        if self.notifier:
            with self.wh.transaction(con):
                for alert in alerts:
                    self.notifier.raise_alert(con, alert)

    def _upstream_fix(self, spec: ProcessorSpec, upstream: dict[date, tuple[str, str]],
                      con: duckdb.DuckDBPyConnection) -> dict[date, tuple[list[int], list[str]]]:
        """What to backfill for each date of `upstream` ({date: (parent that did not succeed,
        status)}) before `spec` can run it, recorded in the report (`upstream_fix`,
        `upstream_processors`): the phases from the phase of the ancestors whose latest run for
        the date failed or that never ran on it though they have work there (else of the parent)
        up to the phase before `spec`'s, and the ancestors of `spec`'s own phase that this
        backfill does not run and that failed, were skipped or never ran there (they need
        `--processor`). One ledger query for every date."""
        if not upstream:
            return {}
        ancestors = self.registry.ancestors(spec)
        days = sorted(upstream)
        latest = ledger.latest_status(con, self.wh.catalog.ledger_table, [a.name for a in ancestors], days)
        never: dict[str, set[date]] = {}  # ancestors that never ran on a date they have work on
        for a in ancestors:
            unseen = [d for d in days if (a.name, d) not in latest]
            if unseen:
                never[a.name] = set(work_dates(con, a, unseen))
        own = {s.name for s in self.req.specs}
        out: dict[date, tuple[list[int], list[str]]] = {}
        for d, (parent, _) in upstream.items():
            roots = [a for a in ancestors if latest.get((a.name, d)) == "failed" or d in never.get(a.name, ())] or [
                p for p in self.registry.upstream(spec) if p.name == parent]
            low = min(a.phase for a in roots)
            # own-phase ancestors this backfill does not run, failed, skipped or never run there
            same = [a.name for a in ancestors if a.phase == spec.phase and a.name not in own
                    and (latest.get((a.name, d)) in ("failed", "blocked", "skipped") or d in never.get(a.name, ()))]
            phases = sorted({s.phase for s in self.registry.order if low <= s.phase < spec.phase})
            for p in phases:
                self.report.upstream_fix.setdefault(p, set()).add(d)
            for name in same:
                self.report.upstream_processors.setdefault(name, set()).add(d)
            out[d] = (phases, same)
        rank = {s.name: i for i, s in enumerate(self.registry.order)}  # DAG order, for the commands
        self.report.upstream_processors = dict(sorted(self.report.upstream_processors.items(),
                                                      key=lambda item: rank[item[0]]))
        return out

    def _merge(self, res: ProcessorResult) -> None:
        for prev in self.report.runs:
            if prev.processor == res.processor:
                prev.rows.extend(res.rows)
                prev.seconds += res.seconds
                return
        self.report.runs.append(res)


def _upstream_reason(parent: str, status: str, d: date) -> str:
    return f"upstream {parent} {status} for {d}"


def upstream_skips(wh: Warehouse, registry: Registry, spec: ProcessorSpec, dates: Sequence[date],
                   con: duckdb.DuckDBPyConnection | None = None) -> dict[date, tuple[str, str]]:
    """skip-deps: the dates among `dates` where a parent's latest run for the date did not
    succeed (failed, blocked, or skipped because of its own upstream), as run_processor presets
    ("skipped", "upstream <parent> <status> for <date>"). Backfills and cascades share it, so a
    cascade leaves a date whose upstream is still missing exactly as a rebuild would."""
    return {d: ("skipped", _upstream_reason(p, st, d))
            for d, (p, st) in upstream_not_ok(wh, registry, spec, dates, con).items()}


def upstream_not_ok(wh: Warehouse, registry: Registry, spec: ProcessorSpec, dates: Sequence[date],
                    con: duckdb.DuckDBPyConnection | None = None) -> dict[date, tuple[str, str]]:
    """The dates among `dates` where a parent's latest run for the date did not succeed
    (failed, blocked, or skipped because of its own upstream) or where a parent with work on
    the date never ran at all ("not run": computing on it would find no rows and record a
    silent zero), with the first such parent by name and its status: {date: (parent, status)}."""
    parents = registry.upstream(spec)
    if not parents or not dates:
        return {}
    c = con or wh.con
    table = check_identifier(wh.catalog.ledger_table)
    rows = c.execute(
        f"""SELECT processor_name, data_date, {ledger.latest("status", "skip_reason")}
            FROM {table}
            WHERE processor_name IN (SELECT unnest(?::VARCHAR[])) AND data_date IN (SELECT unnest(?::DATE[]))
            GROUP BY 1, 2""",
        [[p.name for p in parents], list(dates)],
    ).fetchall()
    found: dict[tuple[str, date], tuple[str, str]] = {}
    for name, d, status, reason in rows:
        bad = status in NOT_DONE or (status == "skipped" and (reason or "").startswith("upstream"))
        found[(name, d)] = (name, status) if bad else ("", "")
    for p in parents:  # a parent that never ran on a date it has work on
        unseen = [d for d in dates if (p.name, d) not in found]
        for d in work_dates(c, p, unseen) if unseen else []:
            found[(p.name, d)] = (p.name, NOT_RUN)
    out: dict[date, tuple[str, str]] = {}
    for (name, d), (parent, status) in sorted(found.items()):
        if parent and d not in out:
            out[d] = (parent, status)
    return out


def status(wh: Warehouse, request: BackfillRequest) -> dict[str, Any]:
    """Progress of a backfill's checkpoint (per processor: last date done, done / total) and the
    command that wrote it (the request's own when nothing ran yet)."""
    marks = load_checkpoints(wh, request.checkpoint_id)
    written = max(marks.values(), key=lambda m: m["updated_at"], default=None)
    return {
        "checkpoint_id": request.checkpoint_id,
        "command": written["command"] if written else request.rerun_command(),
        "processors": [
            {
                "processor": s.name,
                "last_completed_date": m["last_completed_date"].isoformat() if m else None,
                "dates_done": m["dates_done"] if m else 0,
                "dates_total": m["dates_total"] if m else len(request.dates),
                "failed_dates": [d.isoformat() for d in (m["failed_dates"] or [])] if m else [],
                "status": m["status"] if m else "not started",
                "updated_at": m["updated_at"].isoformat(timespec="seconds") if m else None,
            }
            for s in request.specs
            for m in [marks.get(s.name)]
        ],
    }
