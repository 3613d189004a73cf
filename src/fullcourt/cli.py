"""The `fullcourt` command line: a thin Typer app, one library call per command.

Exit codes: 0 success, 1 something failed or does not hold, 2 bad usage, 3 blocked.
Every command takes --db and --json. Dates are YYYY-MM-DD; ranges are inclusive.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from typing import Any, Callable, Optional

import typer

try:  # recent Typer vendors click
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - Typer with click as a dependency
    from click import get_current_context

from fullcourt import api, cascade_api, context, render
from fullcourt.dates import parse_date, parse_date_list, resolve_dates
from fullcourt.errors import FullcourtError, UsageError
from fullcourt.nba.calendar import SEASONS, calendar_span

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="fullcourt: safe backfills and exact cascades for an NBA player-stats pipeline on DuckDB.",
    pretty_exceptions_enable=False,
)

DbOpt = typer.Option(None, "--db", help="DuckDB file (default $FULLCOURT_DB or ./fullcourt.duckdb).")
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")
LandingOpt = typer.Option(None, "--landing", help="Landing folder (default $FULLCOURT_LANDING or ./landing).")
StartOpt = typer.Option(None, "--start-date", help="First date, YYYY-MM-DD (inclusive).")
EndOpt = typer.Option(None, "--end-date", help="Last date, YYYY-MM-DD (inclusive).")
DatesOpt = typer.Option(None, "--dates", help="Explicit dates instead of a range: D,D,...")


def _emit(as_json: bool, result: Any, show: Callable[[Any], None]) -> None:
    if as_json:
        data = result.to_dict() if hasattr(result, "to_dict") else dataclasses.asdict(result)
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        show(result)


INTERRUPTED = "Interrupted: committed work is kept; rerun the same command to continue.\n"


def _know_options() -> None:
    """Fill context.OPTIONS from the command tree once: which options each command takes."""
    if context.OPTIONS:
        return

    def walk(cmd: Any, path: str) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}".strip())
        else:
            context.OPTIONS[path] = frozenset(o for p in cmd.params for o in getattr(p, "opts", ()))

    walk(typer.main.get_command(app), "")


def _run(fn: Callable[[], int | None], as_json: bool = False) -> None:
    """Run a command body; turn FullcourtError into `Error:`/`Try:` lines and its exit code.
    The remedies it prints name the store and landing folder given to it (context.locate)."""
    _know_options()
    ctx = get_current_context(silent=True)
    context.remember(ctx.params if ctx else {})
    try:
        _no_empty_values(ctx)
        code = fn() or 0
    except FullcourtError as err:
        if as_json:
            typer.echo(json.dumps(err.to_dict(), default=str))
        render.error(err)
        raise typer.Exit(err.exit_code)
    except KeyboardInterrupt:  # Typer would exit 130 without a word
        sys.stderr.write(INTERRUPTED)
        raise typer.Exit(130) from None
    except RuntimeError as err:  # DuckDB reports Ctrl-C during a query this way
        if "Query interrupted" not in str(err):
            raise
        sys.stderr.write(INTERRUPTED)
        raise typer.Exit(130) from None
    finally:  # the options belong to this command only
        context.forget()
    raise typer.Exit(code)


def _no_empty_values(ctx: Any) -> None:
    """UsageError for a path or list option given as empty text (`--output ""`, `--fail-games ,,`):
    read as "not given", it silently meant the default or nothing."""
    for p in getattr(ctx.command, "params", ()) if ctx else ():
        value, opts = ctx.params.get(p.name), set(getattr(p, "opts", ()))
        if not isinstance(value, str) or not opts & (PATH_OPTIONS | LISTS.keys()):
            continue
        if not value.replace(",", "").strip():
            option = max(opts, key=len)
            raise UsageError(f"{option} is empty", remedy=f"give {option} a value ({LISTS.get(option, 'PATH')}) "
                                                          "or leave the option out")


def _dates(start: Optional[str], end: Optional[str], dates: Optional[str],
           names: tuple[str, str] = ("start-date", "end-date"), with_list: bool = True) -> list[date]:
    """The command's dates from its range options (`names`) or its --dates list. A range is
    clipped to the calendar's span (no data lies outside it: a range over centuries would walk
    millions of empty days); one wholly outside it is a UsageError."""
    first, last = (parse_date(text, name) if text else None for text, name in zip((start, end), names))
    if first and last and first <= last and not dates:
        lo, hi = calendar_span()
        if last < lo or first > hi:
            raise UsageError(f"{first}..{last} is outside every season of the calendar "
                             f"({SEASONS[0].label} .. {SEASONS[-1].label})",
                             remedy=f"pick dates inside a season, e.g. --{names[0]} {SEASONS[0].start} "
                                    f"--{names[1]} {SEASONS[0].start}")
        first, last = max(first, lo), min(last, hi)
    return resolve_dates(first, last, parse_date_list(dates) if dates else None, names, with_list)


def _range(start: Optional[str], end: Optional[str]) -> tuple[date, date]:
    """--start-date/--end-date of a command without --dates."""
    days = _dates(start, end, None, with_list=False)
    return days[0], days[-1]


@app.command()
def scrape(
    source: str = typer.Option("synthetic", "--source",
                               help="synthetic, or nba-api (live stats.nba.com; needs nba_api and a network)."),
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    seed: Optional[int] = typer.Option(None, "--seed", help="League seed: the same seed gives byte-identical files "
                                       "(default: the landing folder's league, else 7)."),
    teams: Optional[int] = typer.Option(None, "--teams", help="League size, 2-30 teams (default: the landing "
                                        "folder's league, else 30)."),
    players_per_team: Optional[int] = typer.Option(None, "--players-per-team", help="Roster size, 5-20 (default: "
                                                   "the landing folder's league, else 15)."),
    fail_dates: Optional[str] = typer.Option(None, "--fail-dates", help="Simulate an outage: write nothing for D,D."),
    fail_games: Optional[str] = typer.Option(None, "--fail-games", help="Drop single games: GAME_ID,GAME_ID."),
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Phase 1: write NBA.com-shaped payloads for game dates into the landing folder.

    Example: fullcourt scrape --start-date 2021-11-01 --end-date 2021-11-30 --fail-dates 2021-11-17
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        failed = set(parse_date_list(fail_dates, "fail-dates")) if fail_dates else set()
        games = {g.strip() for g in (fail_games or "").split(",") if g.strip()}
        result = api.scrape(landing, source, start, end, seed, teams, players_per_team, failed, games, db=db)
        _emit(as_json, result, render.import_report if source == "nba-api" else render.scrape)
        return 0

    _run(body, as_json)


@app.command()
def backfill(
    phase: Optional[int] = typer.Option(None, "--phase", help="Phase: 2 raw, 3 analytics, 4 precompute, 5 predict."),
    processor: Optional[str] = typer.Option(None, "--processor", help="Run one processor (name or alias)."),
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    dates: Optional[str] = DatesOpt,
    error_policy: str = typer.Option(
        "skip-deps", "--error-policy",
        help="stop: end at the first failed date; continue: run all, list failures; "
             "skip-deps: skip dates whose upstream did not succeed.",
    ),
    order: str = typer.Option("phase-first", "--order", help="phase-first (each processor over the whole range, "
                              "then the next) or date-first (every processor for one date, then the next date)."),
    no_resume: bool = typer.Option(False, "--no-resume", help="Ignore the checkpoint and start over."),
    show_status: bool = typer.Option(False, "--status", help="Show this backfill's checkpoint progress and exit."),
    skip_preflight: bool = typer.Option(False, "--skip-preflight", help="Do not check the upstream phase first."),
    trigger_downstream: bool = typer.Option(
        False, "--trigger-downstream/--skip-downstream-trigger",
        help="Publish triggers on success and run the downstream processors (off by default in backfills).",
    ),
    parallel: int = typer.Option(2, "--parallel", help="Processors that do not depend on each other "
                                 "(e.g. TDZA and PSZA) run N at a time."),
    cascade: bool = typer.Option(False, "--cascade", help="After a phase 2 backfill: cascade detect, then "
                                 "reprocess everything downstream (seed 000 in one command)."),
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Run a phase (or one processor) over dates in backfill mode, in dependency order, resumably.

    Example: fullcourt backfill --phase 4 --start-date 2021-11-01 --end-date 2021-12-31 --error-policy stop
    """

    def body() -> int:
        days = _dates(start_date, end_date, dates)
        if phase == 5 and not processor:  # phase 5 is `predict` over the range: none of these apply
            unused = [flag for flag, used in (("--status", show_status), ("--cascade", cascade),
                                              ("--error-policy", error_policy != "skip-deps"),
                                              ("--order", order != "phase-first")) if used]
            if unused:
                raise UsageError(f"{', '.join(unused)} do{'es' if len(unused) == 1 else ''} not apply to --phase 5 "
                                 "(predictions over the range, no checkpoint)",
                                 remedy="drop them; see what was predicted with: fullcourt grade --start-date D --end-date D")
        if show_status:
            progress_ = api.backfill_status(db, days, phase, processor, order)
            if as_json:
                typer.echo(json.dumps(progress_, indent=2, default=str))
            else:
                render.backfill_status(progress_)
            return 0
        if phase == 5 and not processor:
            result5 = api.predict(db, days[0], days[-1], force_rerun=True)
            _emit(as_json, result5, render.predict)
            return 0 if result5.ok else 1
        with render.progress(enabled=not as_json) as progress:
            result = api.backfill(
                db, landing, days, phase, processor, policy=error_policy, order=order, resume=not no_resume,
                skip_preflight=skip_preflight, trigger_downstream=trigger_downstream, parallel=parallel,
                progress=progress, explicit_dates=dates is not None, cascade=cascade,
            )
        if cascade:
            # the dates of the range loaded since their last whole cascade: this run's, and those
            # an interrupted run of the same backfill loaded (its resume skips them)
            loaded = cascade_api.pending_dates(db, days)
            if not loaded:
                nothing = UsageError("--cascade: this backfill loaded no date, so there is nothing to cascade",
                                     remedy="reload the dates: add --no-resume, or name them with --dates")
                if as_json:  # one document: the backfill and why nothing was cascaded
                    typer.echo(json.dumps({"backfill": result.to_dict(), "cascade": nothing.to_dict()}, indent=2,
                                          default=str))
                else:
                    render.backfill(result)
                    render.error(nothing)
                return 1 if not result.ok else nothing.exit_code
            detected = cascade_api.cascade_detect(db, loaded)
            with render.progress(enabled=not as_json) as progress:
                reprocessed = cascade_api.cascade_reprocess(db, landing, loaded, progress=progress)
            if as_json:
                typer.echo(json.dumps({"backfill": result.to_dict(), "detect": detected.to_dict(),
                                       "reprocess": reprocessed.to_dict()}, indent=2, default=str))
            else:
                render.backfill(result)
                render.cascade_detect(detected)
                render.cascade_reprocess(reprocessed)
            return 0 if result.ok and reprocessed.ok else 1
        _emit(as_json, result, render.backfill)
        return 0 if result.ok else 1

    _run(body, as_json)


@app.command()
def run(
    date_: str = typer.Option(..., "--date", help="The date to run, YYYY-MM-DD."),
    strict_mode: str = typer.Option(
        "true", "--strict-mode", metavar="true|false", help="Defensive checks before each processor (default true).",
    ),
    skip_downstream_trigger: bool = typer.Option(
        False, "--skip-downstream-trigger", help="Publish nothing on success: only phase 2 runs."
    ),
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The daily flow: phase 2 for the date, then phases 3 and 4 as triggers arrive.

    Exit 3 when a run is blocked (the message names the fix), 1 when something failed.
    Example: fullcourt run --date 2021-11-18
    """

    def body() -> int:
        day = parse_date(date_, "date")
        result = api.run(db, landing, day, _bool(strict_mode, "strict-mode"), skip_downstream_trigger)
        _emit(as_json, result, render.flow)
        if not any(r.rows for r in result.runs) and not as_json:
            render.console.print(f"No game is scheduled on {day} (the landing folder's schedule): nothing ran.")
        return result.exit_code

    _run(body, as_json)


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Stop when no message is pending."),
    poll_seconds: float = typer.Option(5.0, "--poll-seconds", help="Seconds between polls (without --once)."),
    strict_mode: str = typer.Option(
        "true", "--strict-mode", metavar="true|false", help="Defensive checks before each processor (default true).",
    ),
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Consume trigger messages and run the downstream processors (each message exactly once).

    Example: fullcourt worker --once
    """

    def body() -> int:
        result = api.worker(db, landing, once, poll_seconds, _bool(strict_mode, "strict-mode"))
        _emit(as_json, result, render.flow)
        return result.exit_code

    _run(body, as_json)


@app.command()
def preflight(
    phase: int = typer.Option(..., "--phase", help="The phase about to run: its upstream phase is checked."),
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Check that the upstream phase is present for every game date; exit 1 with the list.

    Example: fullcourt preflight --phase 4 --start-date 2021-11-01 --end-date 2021-12-31
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = api.preflight(db, landing, phase, start, end)
        _emit(as_json, result, render.preflight)
        return 0 if result.ok else 1

    _run(body, as_json)


cascade_app = typer.Typer(help="Find and recompute the records a late or corrected day changes (seed 000).",
                          no_args_is_help=True)
app.add_typer(cascade_app, name="cascade")


@cascade_app.command("detect")
def cascade_detect(
    backfill_start: Optional[str] = typer.Option(None, "--backfill-start", help="First backfilled date (inclusive)."),
    backfill_end: Optional[str] = typer.Option(None, "--backfill-end", help="Last backfilled date (inclusive)."),
    dates: Optional[str] = DatesOpt,
    output: Optional[str] = typer.Option(None, "--output", help="Write the affected-file JSON here."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list; do not mark needs_reprocessing."),
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List every downstream record whose inputs change when the backfilled dates are reloaded.

    Example: fullcourt cascade detect --backfill-start 2021-11-17 --backfill-end 2021-11-17 --output affected.json
    """

    def body() -> int:
        days = _dates(backfill_start, backfill_end, dates, ("backfill-start", "backfill-end"))
        result = cascade_api.cascade_detect(db, days, output, dry_run)
        _emit(as_json, result, render.cascade_detect)
        return 0

    _run(body, as_json)


@cascade_app.command("reprocess")
def cascade_reprocess(
    affected_file: Optional[str] = typer.Option(None, "--affected-file", help="The output of cascade detect."),
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    with_predictions: bool = typer.Option(False, "--with-predictions",
                                          help="Re-predict the game dates whose features changed."),
    players: Optional[str] = typer.Option(None, "--players", help="Only these players' phase 4 records "
                                          "(player_lookup values, comma-separated); other players' are left as they are."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size",
                                             help="Recompute each processor's dates in runs of at most N dates "
                                                  "(default: all at once)."),
    parallel_dates: int = typer.Option(1, "--parallel-dates", help="Compute up to N date batches at once."),
    parallel: int = typer.Option(2, "--parallel", help="Processors that do not depend on each other "
                                 "run up to N at once (1: one after another; same result)."),
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Recompute in dependency order, propagating only records that really changed.

    Example: fullcourt cascade reprocess --affected-file affected.json --with-predictions
    Example: fullcourt cascade reprocess --start-date 2021-11-17 --end-date 2021-11-17 --players lebronjames
    Example: fullcourt cascade reprocess --affected-file affected.json --batch-size 14 --parallel-dates 2
    """

    def body() -> int:
        if affected_file and (start_date or end_date):
            raise UsageError("give either --affected-file or --start-date/--end-date, not both",
                             remedy="drop one of them")
        if not affected_file and not start_date and not end_date:
            raise UsageError("say what to reprocess",
                             remedy="add --affected-file FILE (the output of cascade detect --output FILE), "
                                    "or --start-date D --end-date D")
        names = players.split(",") if players is not None else None
        backfill, days = None, None
        if affected_file:
            backfill, _ = cascade_api.read_affected_file(affected_file)
        else:
            days = _dates(start_date, end_date, None, with_list=False)
        with render.progress(enabled=not as_json) as progress:  # on stderr, a terminal only
            result = cascade_api.cascade_reprocess(db, landing, backfill, days, with_predictions, progress,
                                                   players=names, batch_size=batch_size,
                                                   parallel_dates=parallel_dates, parallel=parallel)
        _emit(as_json, result, render.cascade_reprocess)
        return 0 if result.ok else 1

    _run(body, as_json)


@cascade_app.command("close")
def cascade_close(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    report_dir: Optional[str] = typer.Option(None, "--report-dir", help="Folder for the incident report files "
                                             "(default ./cascade_reports)."),
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Clear needs_reprocessing where complete, list what is still incomplete and why, write the incident report.

    Example: fullcourt cascade close --start-date 2021-11-17 --end-date 2021-12-31
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = cascade_api.cascade_close(db, start, end, report_dir)
        _emit(as_json, result, render.cascade_close)
        return 0

    _run(body, as_json)


completeness_app = typer.Typer(help="Schedule-based completeness of the windowed records.", no_args_is_help=True)
app.add_typer(completeness_app, name="completeness")


@completeness_app.command("verify")
def completeness_verify(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    expect_complete: bool = typer.Option(False, "--expect-complete", help="Exit 1 unless every record is complete."),
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Count complete and incomplete windowed records per processor, with the dates they miss.

    Example: fullcourt completeness verify --start-date 2021-11-17 --end-date 2021-11-30 --expect-complete
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = cascade_api.completeness_verify(db, start, end)
        _emit(as_json, result, render.completeness_verify)
        return 1 if expect_complete and not result.ok else 0

    _run(body, as_json)


def _bool(value: str, option: str) -> bool:
    v = str(value).strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise UsageError(f"--{option} takes true or false, not {value!r}", remedy=f"e.g. --{option} false")


@app.command()
def status(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Per date and processor: the latest run's status, records and duration.

    Example: fullcourt status --start-date 2021-11-01 --end-date 2021-11-30
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = api.status(db, start, end)
        _emit(as_json, result, render.status)
        return 0

    _run(body, as_json)


@app.command()
def gaps(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    phase: Optional[int] = typer.Option(None, "--phase", help="Check only this phase's tables (2 or 3)."),
    table: Optional[str] = typer.Option(None, "--table", help="Check only this table."),
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List scheduled games missing from the phase 2/3 tables; exit 1 when any is missing.

    Example: fullcourt gaps --start-date 2021-11-01 --end-date 2021-11-30 --phase 2
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = api.gaps(db, start, end, phase, table)
        _emit(as_json, result, render.gaps)
        return 0 if result.ok else 1  # no game outside off days of a loaded season: nothing checked, not ok

    _run(body, as_json)


@app.command()
def predict(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    force_rerun: bool = typer.Option(False, "--force-rerun", help="Replace existing predictions."),
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Phase 5: predict points (moving_average and a trained model) from the ML feature store;
    exit 1 when a scheduled game date has no feature rows because phase 4 failed or did not run.

    Example: fullcourt predict --start-date 2022-03-01 --end-date 2022-03-31 --force-rerun
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = api.predict(db, start, end, force_rerun)
        _emit(as_json, result, render.predict)
        return 0 if result.ok else 1  # a scheduled date left without features is a missing phase 4

    _run(body, as_json)


@app.command()
def grade(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Grade predictions: MAE per system against actual points, OVER/UNDER hit rate where lines exist.

    Example: fullcourt grade --start-date 2022-03-11 --end-date 2022-04-10
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        _emit(as_json, api.grade(db, start, end), render.grade)
        return 0

    _run(body, as_json)


validate_app = typer.Typer(help="Validate what a backfill left: coverage of expected entities.", no_args_is_help=True)
app.add_typer(validate_app, name="validate")


@validate_app.command("coverage")
def validate_coverage(
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    reconcile: bool = typer.Option(False, "--reconcile", help="Also check the ledger's record and failure counts."),
    processor: Optional[str] = typer.Option(None, "--processor", help="One phase 4 processor (name or alias)."),
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every expected entity of every phase 4 date is a record or a tracked failure (else UNTRACKED).

    Dates are inclusive; exits 1 when an entity is UNTRACKED, a work date's latest run did not
    succeed (NOT RUN), (with --reconcile) the ledger's counts disagree with the tables, or the
    range holds no phase 4 work date (an empty check is not a pass).

    Example: fullcourt validate coverage --start-date 2021-11-01 --end-date 2021-12-31 --reconcile
    """

    def body() -> int:
        start, end = _range(start_date, end_date)
        result = api.validate_coverage(db, start, end, reconcile, processor)
        _emit(as_json, result, render.coverage)
        return 0 if result.ok else 1

    _run(body, as_json)


@app.command("import")
def import_(
    format: str = typer.Option(..., "--format", help="nba-stats-boxscores | nba-shotchart | lines-csv."),
    path: str = typer.Option(..., "--path", help="The bundle's folder (a CSV file for lines-csv)."),
    start_date: Optional[str] = StartOpt,
    end_date: Optional[str] = EndOpt,
    landing: Optional[str] = LandingOpt,
    db: Optional[str] = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Import real data: NBA.com box scores or shot charts into the landing folder, or points lines.

    The bundle's game dates in [--start-date, --end-date] (inclusive; default all) become the
    same landing payloads a scrape writes; then run `fullcourt backfill --phase 2 ...`.

    Example: fullcourt import --format nba-shotchart --path data/real/nba-shotchart
    """

    def body() -> int:
        if format == "lines-csv":
            if start_date or end_date or landing:
                raise UsageError("--start-date, --end-date and --landing do not apply to --format lines-csv",
                                 remedy="leave them out: every line of the CSV is imported")
            result = api.import_lines(db, path)
            _emit(as_json, result, render.lines_import)
            return 0
        start = parse_date(start_date, "start-date") if start_date else None
        end = parse_date(end_date, "end-date") if end_date else None
        _emit(as_json, api.import_bundle(db, landing, format, path, start, end), render.import_report)
        return 0

    _run(body, as_json)


PATH_OPTIONS = frozenset({"--db", "--landing", "--output", "--affected-file", "--report-dir", "--path"})
LISTS = {"--dates": "DATE,...", "--fail-dates": "DATE,...", "--fail-games": "GAME_ID,...", "--players": "NAME,..."}
"""The options that take comma-separated lists, and what help shows for them."""


def _name_values(cmd: Any) -> None:
    """What each option takes, as help shows it: DATE, N, PATH, TEXT, and nothing after a flag
    (Typer prints a flag's type, `<bool>`, as if it took a value)."""
    for p in getattr(cmd, "params", ()):
        opts = set(getattr(p, "opts", ()))
        if getattr(p, "metavar", "") is not None or not opts:
            continue
        kind = p.bare_type() if hasattr(p, "bare_type") else ""
        if getattr(p, "is_flag", False):
            p.metavar = ""
        elif opts & LISTS.keys():
            p.metavar = LISTS[next(iter(opts & LISTS.keys()))]
        elif any(o.endswith("-date") or o in ("--date", "--backfill-start", "--backfill-end") for o in opts):
            p.metavar = "DATE"
        elif opts & PATH_OPTIONS:
            p.metavar = "PATH"
        elif kind == "int":
            p.metavar = "N"
        elif kind == "float":
            p.metavar = "SECONDS" if any("seconds" in o for o in opts) else "NUMBER"
        else:
            p.metavar = "TEXT"
    make_help = cmd.get_help_option  # built per call, outside params

    def help_option(ctx: Any) -> Any:
        option = make_help(ctx)
        if option is not None:
            option.metavar = ""
        return option
    cmd.get_help_option = help_option
    for sub in (getattr(cmd, "commands", None) or {}).values():
        _name_values(sub)


def command() -> Any:
    """The click command tree of `app`, its options' values named for help (_name_values)."""
    cmd = typer.main.get_command(app)
    _name_values(cmd)
    return cmd


def main() -> None:
    try:
        command()()
    except KeyboardInterrupt:  # outside a command body (e.g. while Typer parses)
        sys.stderr.write(INTERRUPTED)
        sys.exit(130)
