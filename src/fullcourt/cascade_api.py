"""Library functions behind `fullcourt cascade detect | reprocess | close` (seed 000's protocol).

Each returns a result object; nothing here prints.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import duckdb

from fullcourt.api import open_warehouse, resolve_landing
from fullcourt.dates import format_dates, parse_date, runs_of
from fullcourt.engine.cascade import (WILDCARD, CascadeResult, detect, forget_removed, removed_records, reprocess,
                                     stale_readers)
from fullcourt.engine.runner import work_dates
from fullcourt.engine.scope import FLAG, STORED_COMPLETENESS as STORED, Fresh, flag_tables, labels_table
from fullcourt.engine.warehouse import Warehouse, check_identifier, is_duckdb_file
from fullcourt.errors import FullcourtError, InputError, UsageError
from fullcourt.nba.pipeline import registry
from fullcourt.nba.schema import CASCADE_RUNS

Progress = Callable[[str, int, int], None]
PLAYER_LABEL = "player_lookup"
PLAYERS_TABLE = "nba_analytics.player_game_summary"


def seed_specs() -> list:
    """The processors a backfill reloads: the first phase (raw)."""
    reg = registry()
    first = min(s.phase for s in reg.order)
    return reg.phase(first)


@dataclass
class DetectReport:
    """The seeds' affected-file JSON plus a per-processor breakdown and, for 0 records, why."""

    backfill_dates: list[date]
    result: CascadeResult
    dry_run: bool
    marked: int = 0
    why_empty: str | None = None
    cascade_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    already_reprocessed: dict[str, str] | None = None
    """The latest cascade reprocess that covered these dates after their last reload, if any."""

    def affected(self) -> dict[date, set[str]]:
        out: dict[date, set[str]] = {}
        for p in self.result.processors:
            for d, labels in p.changed.items():
                out.setdefault(d, set()).update(labels)
        return out

    def to_dict(self) -> dict[str, Any]:
        by_date = self.affected()
        dates = sorted(by_date)
        return {
            "cascade_id": self.cascade_id,
            "backfill_dates": [d.isoformat() for d in self.backfill_dates],
            "cascade_start": dates[0].isoformat() if dates else None,
            "cascade_end": dates[-1].isoformat() if dates else None,
            "total_affected_records": self.result.count,
            "affected_by_date": {d.isoformat(): sorted(by_date[d]) for d in dates},
            "by_processor": {
                p.processor: {
                    "records": p.changed_count,
                    "dates": len(p.changed),
                    "affected_by_date": {d.isoformat(): sorted(v) for d, v in sorted(p.changed.items())},
                }
                for p in self.result.processors
            },
            "dry_run": self.dry_run,
            "marked_needs_reprocessing": self.marked,
            "why_empty": self.why_empty,
            "already_reprocessed": self.already_reprocessed,
            "seconds": round(self.result.seconds, 3),
        }


def cascade_detect(db: str | Path | None, dates: Sequence[date], output: str | Path | None = None,
                   dry_run: bool = False) -> DetectReport:
    """List every downstream record whose inputs change when `dates` are (re)loaded; without
    `dry_run`, mark needs_reprocessing on the stored ones and record the detection. A bad
    `output` path is a UsageError before anything is written."""
    if output:
        _check_output_file(Path(output), "--output")
    with open_warehouse(db, create=False) as wh:
        seeds = {s.name: list(dates) for s in seed_specs()}
        removed = removed_records(wh, registry(), _fresh_runs(wh, list(seeds), dates), dates) if dates else {}
        result = detect(wh, registry(), seeds, removed)
        report = DetectReport(sorted(dates), result, dry_run)
        if not result.count:
            report.why_empty = _why_empty(wh, dates)
        report.already_reprocessed = _already_reprocessed(wh, result.seed_dates)
        summary = None
        if not dry_run:
            started = datetime.now()
            with wh.transaction() as con:  # the flags and the run's row: one commit
                report.marked = _mark(con, result)
                summary = report.to_dict()
                _record(wh, report.cascade_id, "detect", started, report.backfill_dates, summary, con)
    if output:
        try:
            Path(output).write_text(json.dumps(summary or report.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot write {output}: {err.strerror or err} (the detection itself was recorded)",
                             remedy="rerun with --dry-run --output FILE to write the list again") from None
    return report


def _check_output_file(path: Path, option: str) -> None:
    """UsageError unless `path` can be written as a file: not a folder, in an existing folder."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder", remedy=f"give a file path, e.g. {option} {path / 'affected.json'}")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"folder {folder} for {option} does not exist",
                         remedy=f"create it (mkdir -p {folder}) or give another path")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"folder {folder} for {option} is not writable", remedy="give a path in a folder you can write")
    try:
        store = path.is_file() and is_duckdb_file(path)
    except OSError:  # unreadable: the write fails with its own error
        store = False
    if store:
        raise UsageError(f"{option} {path} is a DuckDB database; writing the list there would destroy it",
                         remedy=f"give a .json path, e.g. {option} affected.json")


def _check_output_folder(folder: Path, option: str) -> None:
    """UsageError unless `folder` is a folder or can be created as one."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{option} {folder}: {probe} is a file, not a folder", remedy=f"give a folder path, e.g. {option} cascade_reports")
    if not os.access(probe, os.W_OK):
        raise UsageError(f"{option} {folder}: {probe} is not writable", remedy="give a folder you can write")


def _already_reprocessed(wh: Warehouse, dates: Sequence[date]) -> dict[str, str] | None:
    """The latest cascade reprocess whose backfill dates include every one of `dates` and that
    finished after their latest reload (phase 2 run): detection is a prediction and lists the
    records again, but that reprocess already recomputed them."""
    if not dates:
        return None
    rows = wh.con.execute(
        f"""SELECT cascade_id, finished_at, summary FROM {CASCADE_RUNS}
            WHERE kind = 'reprocess' AND list_has_all(backfill_dates, ?::DATE[])
              AND finished_at > (SELECT max(started_at) FROM {check_identifier(wh.catalog.ledger_table)}
                                 WHERE processor_name IN (SELECT unnest(?::VARCHAR[]))
                                   AND data_date IN (SELECT unnest(?::DATE[])))
            ORDER BY finished_at DESC""",
        [list(dates), [s.name for s in seed_specs()], list(dates)]).fetchall()
    for cascade_id, finished, summary in rows:
        done = json.loads(summary) if summary else {}
        if done.get("players") is None and not done.get("range_only"):  # a whole cascade, not a repair
            return {"cascade_id": cascade_id, "finished_at": finished.isoformat(timespec="seconds")}
    return None


def _why_empty(wh: Warehouse, dates: Sequence[date]) -> str:
    reg = registry()
    game_dates = work_dates(wh.con, reg.phase(3)[0], list(dates))
    if not game_dates:
        return f"no scheduled games on {format_dates(dates)}: nothing reads those dates"
    later = [s for s in reg.order if s.phase >= 3 and wh.con.execute(
        f"SELECT count(*) FROM {check_identifier(s.output_table)} WHERE {check_identifier(s.date_column)} >= ?",
        [min(game_dates)]).fetchall()[0][0]]
    if not later:
        return (f"no downstream records exist on or after {min(game_dates)}: nothing was computed from those dates "
                "yet; run the phase 3-4 backfills instead of a cascade")
    return "the downstream records on the candidate dates already match the reloaded data"


def _mark(con: duckdb.DuckDBPyConnection, result: CascadeResult) -> int:
    """Inside the caller's transaction, set needs_reprocessing on the detected stored records:
    by date where every record of the date is listed (or the wildcard names them all), by name
    elsewhere."""
    reg = registry()
    flagged = flag_tables(con, [reg.by_name[c.processor].output_table for c in result.processors])
    total = 0
    for change in result.processors:
        spec = reg.by_name[change.processor]
        if not spec.label_column or not change.changed or spec.output_table not in flagged:
            continue
        t = check_identifier(spec.output_table)
        dc = check_identifier(spec.date_column)
        flag = f"{FLAG} = true"
        every = sorted(d for d, labels in change.changed.items() if d in change.whole or WILDCARD in labels)
        if every:
            n = con.execute(f"UPDATE {t} SET {flag} WHERE {dc} BETWEEN ? AND ? "
                            f"AND {dc} IN (SELECT unnest(?::DATE[]))", [every[0], every[-1], every]).fetchall()
            total += n[0][0] if n else 0
        ds = sorted(set(change.changed) - set(every))
        if not ds:
            continue
        labels_table(con, "mark_keys", {d: change.changed[d] for d in ds})
        n = con.execute(
            f"""UPDATE {t} SET {flag} FROM mark_keys k
                WHERE {t}.{dc} BETWEEN ? AND ? AND {t}.{dc} = k.d
                  AND {t}.{check_identifier(spec.label_column)}::VARCHAR = k.label""",
            [ds[0], ds[-1]],
        ).fetchall()
        con.execute("DROP TABLE mark_keys")
        total += n[0][0] if n else 0
    return total


def _record(wh: Warehouse, cascade_id: str, kind: str, started: datetime, dates: Sequence[date],
            summary: dict[str, Any], con: duckdb.DuckDBPyConnection | None = None,
            span: tuple[date, date] | None = None) -> None:
    """Write the run's row to cascade_runs, in `con`'s open transaction when given. Its
    cascade_start/end are `span` when given (a close's range), else the affected dates'."""
    keys = list(span) if span else sorted(summary.get("affected_by_date") or {})
    if con is None:
        with wh.transaction() as own:
            _record(wh, cascade_id, kind, started, dates, summary, own, span)
        return
    con.execute(
        f"INSERT INTO {CASCADE_RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [cascade_id, kind, started, datetime.now(), list(dates), keys[0] if keys else None,
         keys[-1] if keys else None, summary.get("total_affected_records") or summary.get("records_changed"),
         json.dumps(_counted(summary), default=str)],
    )


def _counted(summary: Any) -> Any:
    """`summary` with each `affected_by_date` list of entities replaced by its length: the run's
    row keeps the counts per date (the entities are in the output file and on the records'
    needs_reprocessing flags), not megabytes of names."""
    if isinstance(summary, dict):
        return {key: ({d: len(names) for d, names in value.items()}
                      if key == "affected_by_date" and isinstance(value, dict) else _counted(value))
                for key, value in summary.items()}
    if isinstance(summary, list):
        return [_counted(v) for v in summary]
    return summary


def read_affected_file(path: str | Path) -> tuple[list[date], list[date]]:
    """(backfill dates, affected dates) from an affected file. UsageError (the file given is not
    one cascade detect wrote) naming what is wrong: it does not exist, cannot be read, is not
    JSON, or a field is missing or of the wrong type."""
    p = Path(path)
    remedy = "regenerate it with: fullcourt cascade detect ... --output FILE"
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "does not exist"
        raise UsageError(f"affected file {p} {what}",
                         remedy="give the JSON file written by: fullcourt cascade detect ... --output FILE")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read affected file {p} ({getattr(err, 'strerror', None) or 'not UTF-8 text'})",
                         remedy=remedy) from None
    except json.JSONDecodeError as err:
        raise UsageError(f"affected file {p} is not JSON (line {err.lineno}, column {err.colno}: {err.msg})",
                         remedy=remedy) from None
    missing = [k for k in ("backfill_dates", "affected_by_date") if not isinstance(data, dict) or k not in data]
    if missing:
        raise UsageError(f"affected file {p} is not a cascade detect output: no {' or '.join(missing)} field",
                         remedy=remedy)
    by_date, listed = data["affected_by_date"], data["backfill_dates"]
    shape = f"affected file {p}: backfill_dates must be a list and affected_by_date an object of YYYY-MM-DD dates"
    if not isinstance(listed, list) or not isinstance(by_date, dict):
        raise UsageError(shape, remedy=remedy)
    try:
        backfill = sorted(parse_date(d, "backfill_dates") for d in listed)
        affected = sorted(parse_date(d, "affected_by_date") for d in by_date)
    except FullcourtError:
        raise UsageError(shape, remedy=remedy) from None
    wrong = [f"affected_by_date[{d}] is not a list of names" for d, names in by_date.items()
             if not isinstance(names, list) or not all(isinstance(n, str) for n in names)]
    if not isinstance(data.get("by_processor", {}), dict):
        wrong.append("by_processor is not an object")
    span = []
    for key in ("cascade_start", "cascade_end"):
        try:
            span += [parse_date(data[key], key)] if data.get(key) is not None else []
        except FullcourtError:
            wrong.append(f"{key} is not a YYYY-MM-DD date")
    if len(span) == 2 and span[0] > span[1]:
        wrong.append("cascade_start is after cascade_end")
    if wrong:
        raise UsageError(f"affected file {p}: {wrong[0]}", remedy=remedy)
    return backfill, affected


@dataclass
class ReprocessReport:
    """Per processor: records recomputed, changed and unchanged; re-predicted dates."""

    result: CascadeResult
    predicted_dates: list[date] = field(default_factory=list)
    players: list[str] | None = None
    cascade_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    with_predictions: bool = False
    range_only: bool = False
    """Recomputed the records dated inside a range only (--start-date/--end-date), not a cascade."""
    resumed: list[str] = field(default_factory=list)
    """Interrupted reprocess runs this one finished (their dates added, early cutoff off)."""
    predictions: list[Any] = field(default_factory=list)
    """With --with-predictions: predict's result for each run of re-predicted dates."""

    @property
    def ok(self) -> bool:
        """No date failed to recompute, and every re-predicted game date had feature rows (or
        phase 4 left it empty on purpose)."""
        return not any(p.failed for p in self.result.processors) and all(p.ok for p in self.predictions)

    def _predictions(self) -> dict[str, Any]:
        from fullcourt.nba.predict import missing_features_remedy

        unexpected = sorted({d for p in self.predictions for d in p.unexpected_without_features})
        rows: dict[str, int] = {}
        for p in self.predictions:
            for system, n in p.rows_written.items():
                rows[system] = rows.get(system, 0) + n
        return {
            "ok": not unexpected,
            "rows_written": rows,
            "dates_without_features_unexpected": [d.isoformat() for d in unexpected],
            "remedy": missing_features_remedy(unexpected),
        }

    def to_dict(self) -> dict[str, Any]:
        changed = sum(p.changed_count for p in self.result.processors)
        recomputed = sum(p.recomputed for p in self.result.processors)
        return {
            "cascade_id": self.cascade_id,
            "backfill_dates": [d.isoformat() for d in self.result.seed_dates],
            "players": self.players,
            "range_only": self.range_only,
            "resumed": self.resumed,
            "ok": self.ok,
            "records_recomputed": recomputed,
            "records_propagated_unchanged": sum(p.fresh_count for p in self.result.processors),
            "records_changed": changed,
            "records_unchanged": max(recomputed - changed, 0),
            "records_per_second": round(recomputed / self.result.seconds, 1) if self.result.seconds else None,
            "seconds": round(self.result.seconds, 3),
            "processors": [p.to_dict() for p in self.result.processors],
            "with_predictions": self.with_predictions,
            "predicted_dates": [d.isoformat() for d in self.predicted_dates],
            "predictions": self._predictions() if self.with_predictions else None,
            "affected_by_date": {
                d.isoformat(): sorted(ls)
                for d, ls in sorted(_union(self.result).items())
            },
        }


def _union(result: CascadeResult) -> dict[date, set[str]]:
    out: dict[date, set[str]] = {}
    for p in result.processors:
        for d, ls in p.changed.items():
            out.setdefault(d, set()).update(ls)
    return out


def cascade_reprocess(db: str | Path | None, landing: str | Path | None, backfill_dates: Sequence[date] | None,
                      only_dates: Sequence[date] | None = None, with_predictions: bool = False,
                      progress: Progress | None = None, players: Sequence[str] | None = None,
                      batch_size: int | None = None, parallel_dates: int = 1, parallel: int = 2) -> ReprocessReport:
    """Recompute downstream of `backfill_dates` in DAG order with early cutoff (bounded to
    `only_dates` when given; with no backfill dates, every date of `only_dates` is reloaded).

    `players` (player_lookup values) restricts the phase 4 player tables (PSZA, PCF, PDC, MLFS)
    to those players; phase 3 and the team tables are recomputed as usual, and other players'
    phase 4 records are left as they are. `batch_size`, `parallel_dates` and `parallel`: see
    engine.cascade.reprocess (the result is the same; only memory and wall time change).
    Raises UsageError, before writing anything, when a name is not a known player_lookup or a
    batch option is below 1."""
    if batch_size is not None and batch_size < 1:
        raise UsageError(f"--batch-size {batch_size} is below 1", remedy="give a number of dates, e.g. --batch-size 14")
    for flag, n in (("--parallel-dates", parallel_dates), ("--parallel", parallel)):
        if n < 1:
            raise UsageError(f"{flag} {n} is below 1", remedy="use 1 (serial) or more")
    seeds_dates = list(backfill_dates or only_dates or [])
    if not seeds_dates:
        raise UsageError("nothing to reprocess", remedy="give --affected-file F or --start-date D --end-date D")
    if players is not None and not [p for p in players if p.strip()]:
        raise UsageError("--players is empty", remedy="give player_lookup values: --players lebronjames,stephencurry")
    with open_warehouse(db, create=False) as wh:
        only_labels = _player_scope(wh, players) if players is not None else None
        started = datetime.now()
        bound = set(only_dates) if only_dates is not None and backfill_dates is None else None
        report = ReprocessReport(CascadeResult([]), range_only=bound is not None,
                                 players=sorted({p.strip() for p in players if p.strip()}) if players else None)
        # An interrupted reprocess committed some processors and not their descendants; compared
        # with what it wrote, its reloaded dates look unchanged. Its dates join this run, and
        # every candidate propagates (no early cutoff), as detect lists them.
        interrupted = wh.con.execute(f"{UNFINISHED} ORDER BY started_at").fetchall()
        whole = bound is None and players is None  # a repair of some dates or players finishes nothing
        if whole:
            seeds_dates = sorted(set(seeds_dates) | {d for _, ds in interrupted for d in ds or []})
        end = wh.catalog.period_end(max(seeds_dates)) if wh.catalog.period_end else max(seeds_dates)
        with wh.transaction() as con:  # running: a run that never finishes is resumed by the next one
            con.execute(f"INSERT INTO {CASCADE_RUNS} (cascade_id, kind, started_at, backfill_dates, cascade_start, "
                        "cascade_end) VALUES (?, 'reprocess', ?, ?, ?, ?)",
                        [report.cascade_id, started, seeds_dates, min(seeds_dates), end])
        seeds = {s.name: seeds_dates for s in seed_specs()}
        runs = _fresh_runs(wh, list(seeds), seeds_dates)
        report.result = reprocess(wh, registry(), seeds, {"landing": resolve_landing(landing)}, bound, progress,
                                  only_labels, batch_size, parallel_dates, parallel, cutoff=not interrupted,
                                  fresh=_fresh(wh, runs, seeds_dates))
        result = report.result
        report.resumed = [c for c, _ in interrupted] if whole else []
        with wh.transaction() as con:
            con.execute(f"DELETE FROM {CASCADE_RUNS} WHERE cascade_id = ? AND kind = 'reprocess'", [report.cascade_id])
            _record(wh, report.cascade_id, "reprocess", started, result.seed_dates, report.to_dict(), con)
            if report.resumed:
                con.execute(f"UPDATE {CASCADE_RUNS} SET summary = ? WHERE cascade_id IN (SELECT unnest(?::VARCHAR[])) "
                            "AND kind = 'reprocess' AND finished_at IS NULL",
                            [json.dumps({"interrupted": True, "resumed_by": report.cascade_id}), report.resumed])
            if whole and report.ok and wh.catalog.removed_table:
                # it propagated what its own runs removed (they are settled now: WHOLE_CASCADES,
                # and _fresh_runs leaves them out) and what the runs before it removed (a daily
                # run, a repair, an interrupted reprocess it resumed): no later cascade needs them
                con.execute(f"DELETE FROM {check_identifier(wh.catalog.removed_table)} WHERE run_id IN ("
                            f"SELECT run_id FROM {check_identifier(wh.catalog.ledger_table)} "
                            "WHERE triggered_by = 'cascade' AND started_at >= ?)", [started])
                forget_removed(con, wh, registry(), runs, seeds_dates)
    report.with_predictions = with_predictions
    if with_predictions:
        from fullcourt import api

        features = next((p for p in result.processors if p.processor == "MLFeatureStoreProcessor"), None)
        # the dates whose feature vectors changed, and the reloaded dates themselves: a late
        # correction of the points lines changes their predictions and no feature
        changed = sorted(set(features.changed if features else ()) | set(result.seed_dates))
        for start, end in runs_of(changed):
            report.predictions.append(api.predict(db, start, end, force_rerun=True))
        report.predicted_dates = changed
        # the run's row says so too; its `ok` stays the cascade's own (whether it settled its runs)
        data = report.to_dict()
        done = {k: data[k] for k in ("with_predictions", "predicted_dates", "predictions")}
        with open_warehouse(db, create=False) as wh, wh.transaction() as con:
            row = con.execute(f"SELECT summary FROM {CASCADE_RUNS} WHERE cascade_id = ? AND kind = 'reprocess'",
                              [report.cascade_id]).fetchone()
            summary = {**json.loads(row[0] or "{}"), **done} if row else done
            con.execute(f"UPDATE {CASCADE_RUNS} SET summary = ? WHERE cascade_id = ? AND kind = 'reprocess'",
                        [json.dumps(summary, default=str), report.cascade_id])
    return report


UNFINISHED = (f"SELECT cascade_id, backfill_dates FROM {CASCADE_RUNS} WHERE kind = 'reprocess' "
              "AND finished_at IS NULL AND summary IS NULL")
"""Reprocess runs that started and never finished nor were resumed (killed or interrupted)."""
WHOLE_CASCADES = (f"SELECT * FROM {CASCADE_RUNS} WHERE kind = 'reprocess' AND finished_at IS NOT NULL "
                  "AND summary->>'players' IS NULL AND coalesce(summary->>'range_only', 'false') = 'false' "
                  "AND coalesce(summary->>'ok', 'true') = 'true'")
"""Finished reprocess runs that were whole cascades with no failed date (not --players or range
repairs, which leave the readers of what they wrote stale)."""
COVERED = (f"SELECT u.d, max(c.finished_at) AS t FROM ({WHOLE_CASCADES}) c, unnest(c.backfill_dates) AS u(d) "
           "GROUP BY u.d")
"""(d, t): when the last whole cascade covering date d finished."""


def _fresh(wh: Warehouse, runs: Sequence[str], dates: Sequence[date]) -> Fresh | None:
    """The stored rows a cascade of `dates` must propagate even when they compare equal
    (engine.scope.write_changes), from `runs` (`_fresh_runs`): the rows that some downstream
    record predates (engine.cascade.stale_readers), and the records those runs removed
    (engine.cascade.removed_records). None when there are neither."""
    if not runs:
        return None
    stale = stale_readers(wh, registry(), runs, dates)
    removed = removed_records(wh, registry(), runs, dates)
    return Fresh(stale.rows if stale else {}, removed) if stale or removed else None


def _fresh_runs(wh: Warehouse, seed_names: Sequence[str], dates: Sequence[date]) -> list[str]:
    """Every run since the new data of `dates` arrived, but the runs of finished whole cascades
    (they propagated what they wrote).

    The new data of a date arrived with the first successful seed run after the last whole
    cascade of that date (a failed run writes nothing, so it marks nothing): a second reload of
    the same data (a daily run, `backfill --cascade` again, or one that failed) does not move
    it, so work done by hand between two reloads still counts. A date no whole cascade covered
    counts from its first load. The ledger's own times and run ids decide: the records' times
    are not compared with them."""
    ledger = check_identifier(wh.catalog.ledger_table)
    runs = wh.con.execute(
        f"""WITH seed AS (SELECT data_date AS d, started_at, status FROM {ledger}
                          WHERE processor_name IN (SELECT unnest(?::VARCHAR[]))
                            AND data_date IN (SELECT unnest(?::DATE[]))),
                covered AS ({COVERED}),
                since AS (SELECT min(s.started_at) AS t FROM seed s LEFT JOIN covered c USING (d)
                          WHERE s.status = 'success' AND s.started_at > coalesce(c.t, '-infinity')),
                settled AS (SELECT DISTINCT l.run_id FROM {ledger} l JOIN ({WHOLE_CASCADES}) c
                              ON l.started_at BETWEEN c.started_at AND c.finished_at WHERE l.triggered_by = 'cascade')
            SELECT list(DISTINCT l.run_id) FROM {ledger} l, since
            WHERE l.started_at >= since.t AND l.run_id NOT IN (SELECT run_id FROM settled)""",
        [list(seed_names), list(dates)]).fetchall()[0][0]
    return list(runs or [])


def pending_dates(db: str | Path | None, dates: Sequence[date]) -> list[date]:
    """The dates among `dates` whose data was (re)loaded (a successful seed run) after their last
    whole cascade, or ever when none covered them: what a cascade of them still has to do."""
    with open_warehouse(db, create=False) as wh:
        return [d for (d,) in wh.con.execute(
            f"""WITH seed AS (SELECT data_date AS d, max(started_at) FILTER (WHERE status = 'success') AS t
                              FROM {check_identifier(wh.catalog.ledger_table)}
                              WHERE processor_name IN (SELECT unnest(?::VARCHAR[]))
                                AND data_date IN (SELECT unnest(?::DATE[])) GROUP BY 1),
                    covered AS ({COVERED})
                SELECT s.d FROM seed s LEFT JOIN covered c USING (d)
                WHERE s.t > coalesce(c.t, '-infinity') ORDER BY 1""",
            [[s.name for s in seed_specs()], list(dates)]).fetchall()]


def _player_scope(wh: Warehouse, players: Sequence[str]) -> dict[str, set[str]]:
    """{processor: the players} for the phase 4 player processors; UsageError naming the
    players that are not a player_lookup of the store."""
    names = sorted({p.strip() for p in players if p.strip()})
    known = {r[0] for r in wh.con.execute(
        f"SELECT DISTINCT player_lookup FROM {PLAYERS_TABLE} WHERE player_lookup IN (SELECT unnest(?::VARCHAR[]))",
        [names]).fetchall()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown player{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
                         f"not a player_lookup in {PLAYERS_TABLE}",
                         remedy="use player_lookup values (lower case letters and digits, e.g. lebronjames)")
    return {s.name: set(names) for s in registry().order if s.label_column == PLAYER_LABEL and s.phase >= 4}


@dataclass
class CloseReport:
    """Close-out of a cascade range: flags cleared, records still incomplete and why."""

    start: date
    end: date
    cleared: int
    incomplete: list[dict[str, Any]]
    incomplete_total: int
    reprocessed: dict[str, dict[str, int]]
    backfill_dates: list[date]
    first_detected: datetime | None
    closed_at: datetime
    files: list[str] = field(default_factory=list)
    cascade_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def secondary_gaps(self) -> list[date]:
        return sorted({date.fromisoformat(m) for r in self.incomplete for m in r["missing_game_dates"]})

    def to_dict(self) -> dict[str, Any]:
        minutes = ((self.closed_at - self.first_detected).total_seconds() / 60) if self.first_detected else None
        return {
            "cascade_id": self.cascade_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "backfill_dates": [d.isoformat() for d in self.backfill_dates],
            "needs_reprocessing_cleared": self.cleared,
            "still_incomplete": self.incomplete_total,
            "secondary_gaps": [d.isoformat() for d in self.secondary_gaps],
            "incomplete_examples": self.incomplete[:50],
            "reprocessed_by_processor": self.reprocessed,
            "time_to_remediate_minutes": round(minutes, 2) if minutes is not None else None,
            "files": self.files,
        }

    def markdown(self) -> str:
        d = self.to_dict()
        lines = [f"# Cascade incident report {self.cascade_id}", "",
                 f"- Range: {d['start']} .. {d['end']}",
                 f"- Backfilled dates: {', '.join(d['backfill_dates']) or 'unknown'}",
                 f"- Time to remediate: {d['time_to_remediate_minutes']} minutes (first detection to close)",
                 f"- needs_reprocessing cleared: {self.cleared}",
                 f"- Still incomplete: {self.incomplete_total}"
                 + (f" (secondary gaps: {', '.join(d['secondary_gaps'])})" if self.secondary_gaps else ""),
                 "", "## Records reprocessed", "", "| processor | recomputed | changed |", "| --- | ---: | ---: |"]
        for name, c in self.reprocessed.items():
            lines.append(f"| {name} | {c.get('records_recomputed', 0)} | {c.get('records_changed', 0)} |")
        if self.incomplete:
            lines += ["", "## Still incomplete (first 50)", "", "| processor | date | entity | missing | reason |",
                      "| --- | --- | --- | --- | --- |"]
            for r in self.incomplete[:50]:
                lines.append(f"| {r['processor']} | {r['date']} | {r['entity']} | "
                             f"{', '.join(r['missing_game_dates'])} | {r['reason']} |")
        return "\n".join(lines) + "\n"


def cascade_close(db: str | Path | None, start: date, end: date, report_dir: str | Path | None = None) -> CloseReport:
    """Clear needs_reprocessing on complete records in [start, end], list those still
    incomplete and why, and write the incident report (table + markdown and JSON files). A
    `report_dir` that cannot be a folder is a UsageError before anything is written."""
    folder = Path(report_dir or "cascade_reports")
    _check_output_folder(folder, "--report-dir")
    reg = registry()
    with open_warehouse(db, create=False) as wh:
        unfinished = wh.con.execute(
            f"{UNFINISHED} AND (cascade_start IS NULL OR cascade_start <= ? AND cascade_end >= ?) ORDER BY started_at",
            [end, start]).fetchall()
        if unfinished:  # its later processors were never recomputed: clearing their flags would hide them
            cascade_id, dates = unfinished[0]
            ds = sorted(dates or [])
            raise InputError(f"the reprocess {cascade_id} of {format_dates(ds)} did not finish: records in "
                             f"{start}..{end} may not be recomputed yet",
                             remedy=f"run a whole cascade of those dates (it resumes {cascade_id}): fullcourt cascade "
                                    f"detect --backfill-start {ds[0] if ds else start} --backfill-end "
                                    f"{ds[-1] if ds else end} --output affected.json, then fullcourt cascade "
                                    "reprocess --affected-file affected.json; then close")
        cleared = 0
        incomplete: list[dict[str, Any]] = []
        total = 0
        # one transaction: the flags, the report files (written under temporary names) and the
        # close row; the files take their names after the commit. A failed write clears nothing.
        with wh.transaction() as con:
            flagged = flag_tables(con, [s.output_table for s in reg.order if s.label_column])
            for spec in reg.order:
                t, dc = check_identifier(spec.output_table), check_identifier(spec.date_column)
                if not spec.label_column or t not in flagged:
                    continue
                n = con.execute(
                    f"UPDATE {t} SET {FLAG} = false "
                    f"WHERE {dc} BETWEEN ? AND ? AND {STORED}.is_complete AND {FLAG}", [start, end]).fetchall()
                cleared += n[0][0] if n else 0
                rows = con.execute(
                    f"SELECT {dc}, {check_identifier(spec.label_column)}::VARCHAR, {STORED}.missing_game_dates, "
                    f"{STORED}.incompleteness_reason FROM {t} "
                    f"WHERE {dc} BETWEEN ? AND ? AND NOT {STORED}.is_complete ORDER BY 1, 2",
                    [start, end]).fetchall()
                total += len(rows)
                incomplete += [{"processor": spec.name, "date": d.isoformat(), "entity": e,
                                "missing_game_dates": [m.isoformat() for m in missing or []], "reason": reason}
                               for d, e, missing, reason in rows[:20]]
            # this incident's runs: those on the range since it was last closed (an earlier
            # incident's were reported by its own close)
            overlaps = "(cascade_end IS NULL OR cascade_end >= ?) AND (cascade_start IS NULL OR cascade_start <= ?)"
            runs = con.execute(
                f"SELECT kind, started_at, backfill_dates, summary FROM {CASCADE_RUNS} "
                f"WHERE kind IN ('detect', 'reprocess') AND {overlaps} AND started_at > coalesce("
                f"(SELECT max(started_at) FROM {CASCADE_RUNS} WHERE kind = 'close' AND (cascade_start IS NULL "
                "OR cascade_start <= ? AND cascade_end >= ?)), '-infinity') "  # a range-less close: before ranges
                "ORDER BY started_at", [start, end, end, start]).fetchall()
            first = runs[0][1] if runs else None
            backfill = sorted({d for _, _, ds, _ in runs for d in (ds or [])})
            reprocessed: dict[str, dict[str, int]] = {}
            for kind, _, _, summary in runs:
                if kind == "reprocess":
                    for p in json.loads(summary or "{}").get("processors", []):  # NULL: never finished
                        agg = reprocessed.setdefault(p["processor"], {"records_recomputed": 0, "records_changed": 0})
                        agg["records_recomputed"] += p["records_recomputed"]
                        agg["records_changed"] += p["records_changed"]
            report = CloseReport(start, end, cleared, incomplete, total, reprocessed, backfill, first, datetime.now())
            md = folder / f"cascade-{start}-{end}-{report.cascade_id}.md"
            js = md.with_suffix(".json")
            report.files = [str(md), str(js)]
            texts = {md: report.markdown(), js: json.dumps(report.to_dict(), indent=2) + "\n"}
            try:
                folder.mkdir(parents=True, exist_ok=True)
                for path, text in texts.items():
                    path.with_name(path.name + ".tmp").write_text(text, encoding="utf-8")
                _record(wh, report.cascade_id, "close", report.closed_at, backfill, report.to_dict(), con,
                        span=(start, end))
            except BaseException as err:  # rolled back: no file is left either
                for path in texts:
                    path.with_name(path.name + ".tmp").unlink(missing_ok=True)
                if isinstance(err, OSError):
                    raise InputError(f"cannot write the incident report in {folder} ({err.strerror or err}): "
                                     "nothing was cleared", remedy="free space or fix the folder, then close again"
                                     ) from None
                raise
        for path in texts:
            os.replace(path.with_name(path.name + ".tmp"), path)
    return report


@dataclass
class VerifyReport:
    """Completeness of every windowed record in [start, end]: per processor, complete/incomplete."""

    start: date
    end: date
    by_processor: dict[str, dict[str, int]]
    missing_dates: list[date]

    @property
    def incomplete(self) -> int:
        return sum(v["incomplete"] for v in self.by_processor.values())

    @property
    def records(self) -> int:
        return sum(v["records"] for v in self.by_processor.values())

    @property
    def ok(self) -> bool:
        """Every windowed record is complete, and there was at least one to verify."""
        return self.records > 0 and self.incomplete == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "ok": self.ok,
            "incomplete": self.incomplete, "missing_dates": [d.isoformat() for d in self.missing_dates],
            "by_processor": self.by_processor,
        }


def completeness_verify(db: str | Path | None, start: date, end: date) -> VerifyReport:
    """Count complete and incomplete records of every table with historical_completeness in
    [start, end] (inclusive), and the missing dates the incomplete ones name."""
    by: dict[str, dict[str, int]] = {}
    missing: set[date] = set()
    with open_warehouse(db, create=False) as wh:
        flagged = flag_tables(wh.con, [s.output_table for s in registry().order])
        for spec in registry().order:
            if spec.output_table not in flagged:
                continue
            t, dc = check_identifier(spec.output_table), check_identifier(spec.date_column)
            total, bad = wh.con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE NOT {STORED}.is_complete) FROM {t} "
                f"WHERE {dc} BETWEEN ? AND ?", [start, end]).fetchall()[0]
            by[spec.name] = {"records": total, "complete": total - bad, "incomplete": bad}
            missing |= {r[0] for r in wh.con.execute(
                f"SELECT DISTINCT unnest({STORED}.missing_game_dates) FROM {t} "
                f"WHERE {dc} BETWEEN ? AND ?", [start, end]).fetchall()}
    return VerifyReport(start, end, by, sorted(missing))
