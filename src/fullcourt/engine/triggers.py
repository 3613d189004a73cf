"""Downstream triggers: an outbox table, a dispatcher, and the daily run built on them.

A processor's success publishes one message per date on the next phase's topic, in the same
transaction as its output (an outbox: the message exists iff the data does). The dispatcher
claims pending messages atomically (each is consumed exactly once, even with several
workers), runs every child processor that is ready for that date, and acknowledges the
messages once that work is done (a dispatcher killed mid-way leaves them pending): all its parents' latest
runs for the date succeeded (or were skipped by design), and it has not run since. Children
publish in turn, so a phase 2 success cascades through phases 3 and 4 by itself.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Sequence

import duckdb

from fullcourt.engine import ledger
from fullcourt.engine.alerts import Alert, Notifier
from fullcourt.engine.checks import Block, strict_check
from fullcourt.engine.ledger import LedgerRow
from fullcourt.engine.runner import OnCommit, ProcessorResult, RunOptions, run_processor, work_dates
from fullcourt.engine.spec import ProcessorSpec, Registry
from fullcourt.engine.warehouse import Warehouse, check_identifier


@dataclass
class Message:
    message_id: str
    topic: str
    processor: str
    data_date: date
    run_id: str | None


def topic_for(registry: Registry, spec: ProcessorSpec) -> str:
    """The next phase's topic: the lowest phase among `spec`'s children (else phase + 1)."""
    children = registry.downstream(spec)
    nxt = min((c.phase for c in children), default=spec.phase + 1)
    return f"phase{nxt}-trigger"


def publisher(outbox: str, topic: str, attributes: dict[str, Any] | None = None) -> OnCommit:
    """An on-commit hook that publishes one message per successful date of the run."""
    table = check_identifier(outbox)

    def publish(con: duckdb.DuckDBPyConnection, run_id: str, rows: Sequence[LedgerRow]) -> None:
        values = [
            (uuid.uuid4().hex, topic, r.processor_name, r.data_date, run_id, datetime.now(),
             json.dumps(attributes or {}))
            for r in rows
            if r.status == "success"
        ]
        if values:
            con.executemany(
                f"INSERT INTO {table} (message_id, topic, processor, data_date, run_id, published_at, attributes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                values,
            )

    return publish


def claim(wh: Warehouse, consumer: str, limit: int = 100) -> list[Message]:
    """Claim up to `limit` pending messages for `consumer` (consumed_by set, consumed_at still
    NULL) and return them, oldest first. `acknowledge` marks them consumed once their work is
    done. A message claimed by another consumer but never acknowledged is pending again: its
    consumer died mid-way (a dispatch holds the store's file lock from claim to acknowledge,
    so no live consumer of another process can own it), and its children may never have run.

    The UPDATE runs in one transaction, so two workers never claim the same message.
    """
    table = check_identifier(wh.catalog.outbox_table)
    with wh.transaction() as con:
        rows = con.execute(
            f"""UPDATE {table} SET consumed_by = ?
                WHERE message_id IN (SELECT message_id FROM {table}
                                     WHERE consumed_at IS NULL AND consumed_by IS DISTINCT FROM ?
                                     ORDER BY published_at, message_id LIMIT ?)
                RETURNING message_id, topic, processor, data_date, run_id, published_at""",
            [consumer, consumer, limit],
        ).fetchall()
    rows.sort(key=lambda r: (r[5], r[0]))
    return [Message(m, t, p, d, r) for m, t, p, d, r, _ in rows]


def acknowledge(wh: Warehouse, consumer: str, message_id: str | None = None) -> None:
    """Mark every message `consumer` claimed (or only `message_id`) as consumed: the work they
    triggered is done."""
    table = check_identifier(wh.catalog.outbox_table)
    only = " AND message_id = ?" if message_id else ""
    with wh.transaction() as con:
        con.execute(f"UPDATE {table} SET consumed_at = now() WHERE consumed_at IS NULL AND consumed_by = ?{only}",
                    [consumer] + ([message_id] if message_id else []))


def pending_count(wh: Warehouse) -> int:
    table = check_identifier(wh.catalog.outbox_table)
    return wh.con.execute(f"SELECT count(*) FROM {table} WHERE consumed_at IS NULL").fetchall()[0][0]


@dataclass
class FlowResult:
    """What a daily run or a dispatch did: processor runs, blocks and alerts, in order."""

    runs: list[ProcessorResult] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    messages: int = 0

    @property
    def failed(self) -> list[tuple[str, date]]:
        return [(r.processor, d) for r in self.runs for d in r.failed]

    @property
    def exit_code(self) -> int:
        return 3 if self.blocks else 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "messages_consumed": self.messages,
            "runs": [r.to_dict() for r in self.runs],
            "blocks": [b.to_dict() for b in self.blocks],
            "alerts": [a.to_dict() for a in self.alerts],
        }


class Flow:
    """Runs processors for single dates with strict checks, alerts and trigger publishing."""

    def __init__(self, wh: Warehouse, registry: Registry, options: RunOptions, params: dict[str, Any],
                 notifier: Notifier | None = None) -> None:
        self.wh = wh
        self.registry = registry
        self.options = options
        self.params = params
        self.notifier = notifier or Notifier(wh.catalog.alerts_table)
        self.result = FlowResult()
        self.consumer: str | None = None  # the dispatch's consumer name, while it runs

    def run_one(self, spec: ProcessorSpec, d: date, message_id: str | None = None) -> ProcessorResult:
        """Run `spec` for `d`: strict checks first (unless backfill mode or strict off)."""
        options = self.options
        if message_id:
            options = RunOptions(options.backfill_mode, options.strict_mode, options.skip_downstream_trigger,
                                 "trigger", message_id)
        preset = None
        block = None
        if options.strict_mode and not options.backfill_mode and work_dates(self.wh.con, spec, [d]):
            block = strict_check(self.wh, self.registry, spec, d)
            if block:
                preset = {d: ("blocked", block.message)}
                self.result.blocks.append(block)
        hook = None
        if not options.skip_downstream_trigger:
            hook = publisher(self.wh.catalog.outbox_table, topic_for(self.registry, spec))
        res = run_processor(self.wh, spec, [d], options, self.params, preset=preset, on_commit=hook)
        self.result.runs.append(res)
        if block:
            block.remedy = f"{block.remedy}, then rerun: fullcourt run --date {d}"
            self._alert("critical", spec.name, d, block.message, block.remedy)
        for row in res.rows:
            if row.status == "failed":
                remedy = (f"fix the input, then rerun: fullcourt run --date {d}" if not options.backfill_mode
                          else f"fix the input, then: fullcourt backfill --phase {spec.phase} --dates {d}")
                self._alert("error", spec.name, d, f"FAILED: {spec.name} for {d}: {row.errors[0]}", remedy)
        return res

    def _alert(self, severity: str, processor: str, d: date, message: str, remedy: str) -> None:
        with self.wh.transaction() as con:
            self.result.alerts.append(
                self.notifier.raise_alert(con, Alert(severity, processor, d, message, remedy))
            )

    def ready(self, spec: ProcessorSpec, d: date) -> bool:
        """All parents done for `d` (success, or skipped by design), no trigger of an ancestor
        still pending for `d` (it will rerun a parent first: run once, after it), and `spec`
        not run since its parents."""
        parents = [p for p in self.registry.upstream(spec) if work_dates(self.wh.con, p, [d])]
        if not parents:
            return False
        outbox = check_identifier(self.wh.catalog.outbox_table)
        coming = self.wh.con.execute(  # not yet claimed by this dispatch (its own are being handled)
            f"SELECT count(*) FROM {outbox} WHERE consumed_at IS NULL AND consumed_by IS DISTINCT FROM ? "
            "AND data_date = ? AND processor IN (SELECT unnest(?::VARCHAR[]))",
            [self.consumer, d, [a.name for a in self.registry.ancestors(spec)]]).fetchall()[0][0]
        if coming:
            return False
        table = check_identifier(self.wh.catalog.ledger_table)
        rows = self.wh.con.execute(
            f"""SELECT processor_name, {ledger.latest("status", "skip_reason")}, max(started_at), {ledger.latest("finished_at")}
                FROM {table} WHERE data_date = ? AND processor_name IN (SELECT unnest(?::VARCHAR[]))
                GROUP BY 1""",
            [d, [p.name for p in parents] + [spec.name]],
        ).fetchall()
        latest = {name: (st, reason, started, finished) for name, st, reason, started, finished in rows}
        done_at = []
        for p in parents:
            st = latest.get(p.name)
            if st is None or not (st[0] == "success" or (st[0] == "skipped" and not _upstream_skip(st[1]))):
                return False
            done_at.append(st[3])
        mine = latest.get(spec.name)
        return mine is None or mine[2] < max(done_at)

    def dispatch(self, consumer: str, limit: int | None = None) -> FlowResult:
        """Consume pending messages (all, or up to `limit`) and run the ready children. The
        messages are acknowledged once every child they led to has run or proved not ready:
        a dispatch killed before that leaves them pending for the next one."""
        self.consumer = consumer
        consumed = 0
        # children that were not ready when their parent's message came: one may have waited
        # for an ancestor's trigger whose rerun then never reached it (a failed sibling), so
        # they are checked again once the queue is empty
        waiting: dict[tuple[str, date], ProcessorSpec] = {}
        order = {s.name: i for i, s in enumerate(self.registry.order)}
        while limit is None or consumed < limit:
            batch = claim(self.wh, consumer, 1)
            if not batch:
                # the first ready one in DAG order, then the messages it publishes: a later one's
                # readiness may depend on that run
                pending = sorted(waiting, key=lambda key: (key[1], order[key[0]]))
                key = next((k for k in pending if self.ready(waiting[k], k[1])), None)
                if key is None:
                    break
                self.run_one(waiting.pop(key), key[1])
                continue
            msg = batch[0]
            consumed += 1
            parent = self.registry.by_name.get(msg.processor)
            try:
                for child in self.registry.downstream(parent) if parent else []:
                    if self.ready(child, msg.data_date):
                        self.run_one(child, msg.data_date, msg.message_id)
                        waiting.pop((child.name, msg.data_date), None)
                    else:
                        waiting[(child.name, msg.data_date)] = child
            except Exception:  # an error, not a kill: consumed, or it would fail every later dispatch first
                acknowledge(self.wh, consumer, msg.message_id)
                raise
        acknowledge(self.wh, consumer)
        self.result.messages += consumed
        return self.result


def _upstream_skip(reason: str | None) -> bool:
    return bool(reason) and reason.startswith("upstream")


def daily_run(wh: Warehouse, registry: Registry, d: date, options: RunOptions, params: dict[str, Any],
              consumer: str | None = None) -> FlowResult:
    """The scheduled daily flow for date `d`: the first phase's processors, then (unless
    skip_downstream_trigger) the dispatcher drains the outbox in-process."""
    flow = Flow(wh, registry, options, params)
    first = min(s.phase for s in registry.order)
    for spec in registry.phase(first):
        flow.run_one(spec, d)
    if not options.skip_downstream_trigger:
        flow.dispatch(consumer or f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}")  # unique, as a claim owner
    return flow.result


def worker_once(wh: Warehouse, registry: Registry, options: RunOptions, params: dict[str, Any],
                consumer: str, limit: int | None = None) -> FlowResult:
    """Consume pending messages until none is left (or `limit` were consumed)."""
    return Flow(wh, registry, options, params).dispatch(consumer, limit)

