"""Console rendering of result objects (Rich). Logic never prints; this module does."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fullcourt.context import locate
from fullcourt.errors import FullcourtError


def _width(stream: Any) -> int | None:
    """The terminal's width; piped, $COLUMNS when set, else 160 (not Rich's 80)."""
    return None if stream.isatty() or os.environ.get("COLUMNS") else 160


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))

MARK = {"success": "[green]✓[/]", "failed": "[red]✗ failed[/]", "blocked": "[red]⛔ blocked[/]",
        "skipped": "[yellow]– skipped[/]", "running": "[blue]… running[/]"}


def error(err: FullcourtError) -> None:
    err_console.print(f"[bold red]Error:[/] {escape(err.message)}", highlight=False, soft_wrap=True)
    if err.remedy:
        err_console.print(f"[bold]Try:[/] {escape(locate(err.remedy))}", highlight=False, soft_wrap=True)


@contextmanager
def progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None] | None]:
    """A Rich progress bar over processors, or None when disabled or not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=1)

        def update(name: str, done: int, total: int) -> None:
            bar.update(task, description=name or "done", completed=done, total=total)

        yield update


def scrape(result: Any) -> None:
    console.print(
        f"Scraped {len(result.dates_written)} game dates, {result.games_written} games, "
        f"{result.files_written} files."
    )
    if result.dates_failed:
        console.print(f"[yellow]Outage simulated[/] on {', '.join(d.isoformat() for d in result.dates_failed)}: "
                      "nothing written for those dates.")
    if result.games_dropped:
        console.print(f"[yellow]Dropped games:[/] {', '.join(result.games_dropped)}")


def backfill(report: Any) -> None:
    req = report.request
    title = (f"Backfill of {len(req.dates)} calendar dates ({req.order}, error policy {req.policy}); "
             "each processor counts the dates it has work on (game dates)")
    table = Table(title=title, title_justify="left")
    for col in ("processor", "phase", "ok", "failed", "blocked", "skipped", "records", "failures", "seconds"):
        table.add_column(col, justify="right" if col != "processor" else "left")
    for p in report.runs:
        table.add_row(p.processor, str(p.phase), str(len(p.dates_with("success"))), _red(len(p.failed)),
                      _red(len(p.dates_with("blocked"))), str(len(p.dates_with("skipped"))), f"{p.records:,}",
                      f"{p.failures:,}", f"{p.seconds:.2f}")
    console.print(table)
    for name, d in report.resumed.items():
        console.print(f"Resumed {name} after {d} (checkpoint {req.checkpoint_id}; --no-resume starts over)",
                      highlight=False)
    if not report.runs and report.resumed:
        console.print("Nothing left to do: this backfill already completed.")
    shown = 0
    for p in report.runs:
        for row in p.rows:
            if row.status in ("failed", "blocked") and shown < 12:
                mark = "[red]✗[/]" if row.status == "failed" else "[red]⛔[/]"
                console.print(f"{mark} {p.processor} {row.data_date}: {escape(row.errors[0]) if row.errors else ''}",
                              highlight=False, soft_wrap=True)
                shown += 1
    if report.stopped_at:
        console.print(f"[red]Stopped[/] at {report.stopped_at} (error policy stop): later dates did not run.")
    if report.skipped_for_upstream:
        console.print(f"[yellow]Skipped[/] because their upstream did not succeed: "
                      f"{', '.join(d.isoformat() for d in report.skipped_for_upstream)}", highlight=False)
    if report.blocked_dates:
        console.print(f"[red]Blocked[/] because their upstream did not succeed: "
                      f"{', '.join(d.isoformat() for d in report.blocked_dates)}", highlight=False)
    if report.failed_dates:
        console.print(f"[red]Failed dates:[/] {', '.join(d.isoformat() for d in report.failed_dates)}",
                      highlight=False)
    if report.ok:
        return
    upstream = report.upstream_command()
    if upstream:
        console.print(f"Their upstream first: [bold]{escape(locate(upstream))}[/]", highlight=False, soft_wrap=True)
    if report.resumes:
        lead = f"Fix the cause, then rerun the same command (it resumes at {report.stopped_at}):"
    elif report.stopped_at:
        lead = "Fix the cause, then run the stopped date and the dates that did not run:"
    elif report.failed_dates:
        lead = "Fix the cause (the errors above say it), then retry them with:"
    else:
        lead = "Then retry them with:" if upstream else "Retry them with:"
    console.print(f"{lead} [bold]{escape(locate(report.retry_command()))}[/]", highlight=False, soft_wrap=True)


def backfill_status(progress: dict) -> None:
    started = any(p["status"] != "not started" for p in progress["processors"])
    title = (f"Checkpoint {progress['checkpoint_id']}: {progress['command']}" if started else
             f"No checkpoint yet for: {progress['command']} (this backfill has not run)")
    table = Table(title=title, title_justify="left")
    for col in ("processor", "status", "last date done", "done", "failed dates", "updated"):
        table.add_column(col)
    for p in progress["processors"]:
        table.add_row(p["processor"], p["status"], p["last_completed_date"] or "",
                      f"{p['dates_done']}/{p['dates_total']}", ", ".join(p["failed_dates"]), p["updated_at"] or "")
    console.print(table)


def flow(result: Any) -> None:
    table = Table(title="Runs", title_justify="left")
    for col in ("processor", "date", "status", "records", "trigger"):
        table.add_column(col)
    for r in result.runs:
        for row in r.rows:
            table.add_row(r.processor, row.data_date.isoformat(), MARK.get(row.status, row.status),
                          f"{row.records_created:,}" if row.status == "success" else "",
                          "message" if r.triggered_by == "trigger" else "direct")
    if table.row_count:
        console.print(table)
    console.print(f"{result.messages} trigger messages consumed.")
    for alert in result.alerts:
        err_console.print(f"[bold red]ALERT[/] {alert.message}", highlight=False, soft_wrap=True)
        if alert.remedy:
            err_console.print(f"  [bold]Fix:[/] {escape(alert.remedy)}", highlight=False, soft_wrap=True)  # located


def preflight(result: Any) -> None:
    if result.ok:
        console.print(f"[green]OK[/]: phase {result.phase - 1} is present for every game date "
                      f"{result.start} .. {result.end}.")
        return
    console.print(f"[red]Preflight for phase {result.phase} failed[/]: upstream incomplete on "
                  f"{', '.join(d.isoformat() for d in result.dates)}", highlight=False)
    for what, ds in {**result.missing, **result.failed}.items():
        console.print(f"  {what}: {', '.join(d.isoformat() for d in ds)}", highlight=False)
    if result.remedy:
        console.print(f"Fix: [bold]{escape(locate(result.remedy))}[/]", highlight=False)


def status(result: Any) -> None:
    short = {name: result.short_names.get(name, name) for name in result.processors}
    console.print(f"Status {result.start} .. {result.end}  (✓ records written, +N tracked failures, "
                  "– skipped: reasons below)",
                  highlight=False, soft_wrap=True)
    if not result.rows:
        console.print("No runs recorded for these dates.")
        return
    table = Table()
    table.add_column("date", no_wrap=True)
    for name in result.processors:
        table.add_column(short[name], justify="right", no_wrap=True)
    by_date: dict = {}
    for r in result.rows:
        by_date.setdefault(r.data_date, {})[r.processor] = r
    reasons: dict[str, list[str]] = {}  # skip reason -> "short date" cells, listed under the table
    for d in sorted(by_date):
        cells = []
        for name in result.processors:
            r = by_date[d].get(name)
            if r is None:
                cells.append("")
            elif r.status == "success":  # a day whose every expected entity failed must not look fine
                failed = f" [yellow]+{r.records_failed:,}[/]" if r.records_failed else ""
                cells.append(f"✓ {r.records_created or 0:,}{failed}")
            elif r.status == "skipped":
                cells.append("[yellow]–[/]")
                reasons.setdefault(r.skip_reason or "no reason recorded", []).append(f"{short[name]} {d}")
            else:
                cells.append(MARK.get(r.status, r.status))
        table.add_row(d.isoformat(), *cells)
    console.print(table)
    for reason, where in reasons.items():
        shown = ", ".join(where[:6]) + (f" and {len(where) - 6} more" if len(where) > 6 else "")
        console.print(f"[yellow]skip[/] {escape(reason)}: {shown}", highlight=False, soft_wrap=True)


def gaps(result: Any) -> None:
    table = Table(title=f"Gaps {result.start} .. {result.end} ({result.scheduled_games} scheduled games)",
                  title_justify="left")
    for col in ("table", "expected", "missing games", "missing dates"):
        table.add_column(col)
    for t in result.tables:
        dates = ", ".join(d.isoformat() for d in t.missing_dates[:8]) + (" …" if len(t.missing_dates) > 8 else "")
        table.add_row(t.table, str(t.expected), _red(t.missing_count), dates)
    console.print(table)
    if result.off_days:
        console.print("[green]OK: no game is scheduled on these dates[/] (off days inside a loaded season's "
                      "schedule): nothing can be missing.", highlight=False)
    elif not result.scheduled_games and result.schedule_span:
        first, last = result.schedule_span
        console.print(f"[red]Nothing to check:[/] no game is scheduled in this range, and it does not lie inside one "
                      f"loaded season (the loaded schedule runs from {first} to {last}). If games are expected here, "
                      "load their season's schedule: fullcourt backfill --phase 2 ...", highlight=False, soft_wrap=True)
    elif not result.scheduled_games:
        console.print("[red]Nothing to check:[/] no schedule is loaded (load it: fullcourt backfill --phase 2 ...)",
                      highlight=False, soft_wrap=True)
    elif result.ok:
        console.print("[green]OK: full coverage[/]")
    else:
        console.print(f"[red]Missing dates:[/] {', '.join(d.isoformat() for d in result.missing_dates)}")


def _red(n: int) -> str:
    return f"[red]{n:,}[/]" if n else "0"


def predict(result: Any) -> None:
    data = result.to_dict()
    written = data.get("rows_written") or {}
    console.print(f"{len(data.get('dates', []))} dates with features in {data.get('seconds', 0):.1f}s; rows written per "
                  "system: " + ", ".join(f"{k} {v:,}" for k, v in written.items()), highlight=False)
    kept = data.get("dates_kept") or {}
    if any(kept.values()):
        n = max(len(v) for v in kept.values())
        console.print(f"Existing predictions kept on {n} dates (use --force-rerun to replace them).")
    by_design = set(data.get("dates_without_features_by_design") or [])
    missing = [d for d in data.get("dates_without_features") or [] if d not in by_design]
    if by_design:
        console.print(f"No features by design on {len(by_design)} game dates (a season's first days, which phase 4 "
                      "skips, or every player a tracked failure, e.g. too few games yet): nothing predicted there.",
                      highlight=False, soft_wrap=True)
    if missing:
        console.print(f"[red]No feature rows[/] on {len(missing)} scheduled game dates, nothing predicted there: "
                      f"{', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}: phase 4 failed or has not run "
                      f"there. {escape(locate(data.get('remedy')) or '')}.", highlight=False, soft_wrap=True)
    fell_back = [t for t in data.get("trainings") or [] if t.get("fallback")]
    if fell_back:
        console.print(f"[yellow]Note:[/] too little history to train the model before {fell_back[0]['cutoff']} "
                      f"({fell_back[0]['rows']} rows): gradient_boosting used the moving average there "
                      f"({fell_back[0]['model_version']}).", highlight=False, soft_wrap=True)


def grade(result: Any) -> None:
    data = result.to_dict()
    table = Table(title=f"Grades {data.get('start')} .. {data.get('end')}", title_justify="left")
    for col in ("system", "graded", "MAE", "bias", "bets", "hit rate"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for s in data.get("systems", {}).values():
        hit = s.get("hit_rate")
        table.add_row(s.get("system_id", ""), f"{s.get('graded', 0):,}", _num(s.get("mae")), _num(s.get("bias")),
                      f"{s.get('bets', 0):,}", "" if hit is None else f"{100 * hit:.1f}%")
    console.print(table)


def _num(x: Any) -> str:
    return "" if x is None else f"{x:.3f}"


def cascade_detect(report: Any) -> None:
    data = report.to_dict()
    table = Table(title=f"Cascade detect for {', '.join(data['backfill_dates'])}", title_justify="left")
    for col in ("processor", "dates", "records"):
        table.add_column(col, justify="left" if col == "processor" else "right")
    for name, p in data["by_processor"].items():
        table.add_row(name, str(p["dates"]), f"{p['records']:,}")
    console.print(table)
    console.print(f"{data['total_affected_records']:,} records affected, {data['cascade_start']} .. {data['cascade_end']}"
                  f" ({data['seconds']:.2f}s)" + ("" if data["dry_run"] else
                                                  f"; needs_reprocessing set on {data['marked_needs_reprocessing']:,}"),
                  highlight=False)
    if data["why_empty"]:
        console.print(f"[yellow]0 affected records:[/] {data['why_empty']}", highlight=False)
    done = data.get("already_reprocessed")
    if done and data["total_affected_records"]:
        console.print(f"[yellow]Note:[/] cascade {done['cascade_id']} already reprocessed these dates at "
                      f"{done['finished_at']}, after their last reload. Detection predicts from the dates alone, "
                      "so it lists those records again; nothing is pending unless the data changed since "
                      "(cascade close clears the flags).", highlight=False, soft_wrap=True)


def cascade_reprocess(report: Any) -> None:
    data = report.to_dict()
    table = Table(title="Cascade reprocess (early cutoff: only real changes propagate)", title_justify="left")
    for col in ("processor", "dates", "recomputed", "changed", "unchanged", "seconds"):
        table.add_column(col, justify="left" if col == "processor" else "right")
    for p in data["processors"]:
        if p["dates"]:
            table.add_row(p["processor"], str(p["dates"]), f"{p['records_recomputed']:,}",
                          f"{p['records_changed']:,}", f"{p['records_unchanged']:,}", f"{p['seconds']:.2f}")
    console.print(table)
    console.print(f"{data['records_changed']:,} records changed of {data['records_recomputed']:,} recomputed in "
                  f"{data['seconds']:.2f}s ({data['records_per_second']} records/s)", highlight=False)
    failed = [f"{p['processor']} {', '.join(p['failed'])}" for p in data["processors"] if p.get("failed")]
    if failed:
        console.print(f"[red]Failed[/] (the ledger says why; fix it and run the same command again): "
                      f"{escape('; '.join(failed))}.", highlight=False, soft_wrap=True)
    left = [f"{p['processor']} {', '.join(p['left_for_a_full_cascade'])}" for p in data["processors"]
            if p.get("left_for_a_full_cascade")]
    if left:
        console.print(f"Left for a full cascade (these dates never succeeded, so some players' records cannot "
                      f"finish them): {'; '.join(left)}.", highlight=False, soft_wrap=True)
    if data.get("records_propagated_unchanged"):
        console.print(f"{data['records_propagated_unchanged']:,} unchanged records were written since the reload "
                      "outside a whole cascade, after records that read them: those readers were recomputed too.",
                      highlight=False, soft_wrap=True)
    if data.get("resumed"):
        console.print(f"Resumed the interrupted reprocess {', '.join(data['resumed'])}: its dates were added and "
                      "every candidate recomputed (no early cutoff).", highlight=False, soft_wrap=True)
    reached = {p["processor"] for p in data["processors"] if p["dates"]}
    if not data["records_recomputed"]:
        console.print("Nothing to recompute: no record downstream of these dates reads them.", highlight=False)
    elif not data["records_changed"] and not data.get("records_propagated_unchanged"):
        console.print("Nothing changed: every recomputed record equals the stored one; early cutoff "
                      "stopped the cascade there.", highlight=False)
    elif len(reached) < len(data["processors"]):
        console.print(f"Not reached (nothing they read changed): "
                      f"{', '.join(p['processor'] for p in data['processors'] if p['processor'] not in reached)}.",
                      highlight=False)
    if data["predicted_dates"]:
        made = data["predictions"] or {}
        console.print(f"Re-predicted {len(data['predicted_dates'])} dates: "
                      f"{', '.join(f'{n:,} {s}' for s, n in (made.get('rows_written') or {}).items())} "
                      "predictions.", highlight=False)
        if made.get("dates_without_features_unexpected"):
            console.print(f"[red]No feature rows[/] on {', '.join(made['dates_without_features_unexpected'])} "
                          f"(phase 4 failed or did not run there). Try: {escape(made['remedy'] or '')}",
                          highlight=False, soft_wrap=True)
    elif data.get("with_predictions"):
        console.print("No feature vector changed: nothing to re-predict.")


def cascade_close(report: Any) -> None:
    data = report.to_dict()
    if data["needs_reprocessing_cleared"]:
        console.print(f"Cleared needs_reprocessing on {data['needs_reprocessing_cleared']:,} complete records.")
    else:
        console.print("No flagged complete record in the range (a reprocess clears the flags of the records "
                      "it recomputed or proved current).", highlight=False)
    if data["still_incomplete"]:
        console.print(f"[yellow]{data['still_incomplete']:,} records are still incomplete[/]; secondary gaps: "
                      f"{', '.join(data['secondary_gaps']) or 'none'}", highlight=False)
        for r in data["incomplete_examples"][:5]:
            console.print(f"  {r['processor']} {r['date']} {r['entity']}: missing {', '.join(r['missing_game_dates'])}"
                          f" ({r['reason']})", highlight=False)
    else:
        console.print("[green]Every record in the range is complete.[/]")
    console.print(f"Incident report: {', '.join(data['files'])}", highlight=False)


def completeness_verify(report: Any) -> None:
    table = Table(title=f"Completeness {report.start} .. {report.end}", title_justify="left")
    for col in ("processor", "records", "complete", "incomplete"):
        table.add_column(col, justify="left" if col == "processor" else "right")
    for name, c in report.by_processor.items():
        table.add_row(name, f"{c['records']:,}", f"{c['complete']:,}", _red(c["incomplete"]))
    console.print(table)
    if not report.records:
        console.print("[red]Nothing to verify:[/] no windowed record in this range.", highlight=False)
    elif report.ok:
        console.print("[green]Verification passed:[/] every windowed record in the range is complete.")
    else:
        console.print(f"[red]{report.incomplete:,} records are incomplete[/]; they miss "
                      f"{', '.join(d.isoformat() for d in report.missing_dates)}", highlight=False)


def lines_import(result: Any) -> None:
    console.print(f"Imported {result.rows:,} lines from {escape(result.path)}", highlight=False)
    if result.unknown_players:
        names = ", ".join(result.unknown_players[:10]) + (" …" if len(result.unknown_players) > 10 else "")
        console.print(f"[yellow]Note:[/] {len(result.unknown_players)} players have no box score in this store, so "
                      f"their lines will not be graded: {escape(names)}", highlight=False, soft_wrap=True)


def import_report(report: Any) -> None:
    """The import report: what was read, written, dropped, derived, and where sources disagreed."""
    days = report.dates
    span = f"{days[0]} .. {days[-1]}" if days else "no dates"
    console.print(f"[bold]Imported[/] {report.format} from {escape(report.path)}: {len(days)} game dates ({span}), "
                  f"{report.games} games, {report.player_games} player-games, {report.files_written} files "
                  f"into {escape(report.landing)} in {report.seconds:.1f} s.", highlight=False)
    for title, counts in (("rows read", report.rows_read), ("excluded", report.excluded),
                          ("dropped", report.dropped), ("derived", report.derived),
                          ("disagreements between sources", report.disagreements),
                          ("DNP reasons (gamebook spelling)", report.dnp_reasons)):
        if not counts:
            continue
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        for k, v in counts.items():
            table.add_row(escape(str(k)), f"{v:,}")
        console.print(table)
    for r in report.renamed:
        console.print(escape(f"Renamed player {r['person_id']}: {' / '.join(r['names'])} → one player, "
                             f"named {r['used']}"), highlight=False)
    for note in report.notes:
        console.print(f"[yellow]Note:[/] {escape(note)}", highlight=False)
    if days:
        db = f" --db {report.db}" if report.db else ""
        console.print(escape(f"Next: fullcourt backfill --phase 2 --start-date {days[0]} --end-date {days[-1]} "
                             f"--landing {report.landing}{db} (then phases 3 and 4, with the same --db)"),
                      highlight=False, soft_wrap=True)


def coverage(result: Any) -> None:
    """Coverage per processor: expected = records + failures, else UNTRACKED."""
    title = f"Coverage {result.start} .. {result.end}" + (" (reconciled with the ledger)" if result.reconcile else "")
    table = Table(title=title, title_justify="left")
    for col in ("processor", "dates", "expected", "records", "failures", "untracked", "unexpected", "status"):
        table.add_column(col, justify="left" if col in ("processor", "status") else "right")
    for p in result.processors:
        mark = "[yellow]no dates[/]" if not p.dates else "[green]OK[/]" if p.ok else f"[red]{p.status}[/]"
        table.add_row(p.processor, f"{p.dates:,}", f"{p.expected:,}", f"{p.records:,}", f"{p.failures:,}",
                      f"{p.untracked_count:,}", f"{p.unexpected_count:,}", mark)
    console.print(table)
    for p in result.processors:
        if p.by_category:
            console.print(f"{p.processor} failures: " + ", ".join(f"{k} {v:,}" for k, v in p.by_category.items()),
                          highlight=False)
        for d, e in p.untracked:
            console.print(f"[red]UNTRACKED[/] {p.processor} {d} {escape(e)}", highlight=False)
        if p.mismatched_dates:
            console.print(f"[red]Ledger counts disagree[/] for {p.processor} on "
                          + ", ".join(str(d) for d in p.mismatched_dates[:10]), highlight=False)
        if p.not_succeeded:
            shown = ", ".join(f"{d} ({st})" for d, st in sorted(p.not_succeeded.items())[:10])
            more = f" and {len(p.not_succeeded) - 10} more" if len(p.not_succeeded) > 10 else ""
            console.print(f"[red]Not run successfully[/] {p.processor}: {shown}{more}", highlight=False)
    if result.empty:
        console.print("[red]Nothing to validate:[/] no phase 4 work date (a scheduled game date after the "
                      "bootstrap days) in this range.", highlight=False)
