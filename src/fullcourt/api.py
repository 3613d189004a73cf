"""Library functions behind the CLI: each command is one call here, returning a result object.

Nothing here prints. The CLI renders the returned objects to the console or as JSON.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from fullcourt.context import locate
from fullcourt.dates import format_dates
from fullcourt.engine.backfill import (
    DEFAULT_ORDER, DEFAULT_POLICY, ORDERS, POLICIES, Backfill, BackfillReport, BackfillRequest,
)
from fullcourt.engine.backfill import status as backfill_progress
from fullcourt.engine import ledger
from fullcourt.engine.checks import preflight as engine_preflight
from fullcourt.engine.runner import RunOptions
from fullcourt.engine.spec import ProcessorSpec
from fullcourt.engine.triggers import FlowResult, daily_run, worker_once
from fullcourt.engine.warehouse import Warehouse, resolve_db_path
from fullcourt.errors import DatabaseLockedError, FullcourtError, InputError, UsageError
from fullcourt.nba.calendar import SEASONS, season_by_label, season_label, seasons_overlapping
from fullcourt.nba.raw import landing_gaps, schedule_file
from fullcourt.nba.sources.synthetic_league import LeagueConfig
from fullcourt.nba.pipeline import catalog, registry

PHASES = (2, 3, 4, 5)


def open_warehouse(db: str | Path | None, create: bool = True) -> Warehouse:
    """Open (and migrate) the store at `db` / $FULLCOURT_DB / ./fullcourt.duckdb. Without
    `create` (commands that only read or fix an existing store), a missing file is a
    UsageError: an empty new store would answer "no gaps", "nothing to do"."""
    path = resolve_db_path(db)
    if not create and not path.exists():
        raise UsageError(f"database {path} does not exist",
                         remedy="pass the store's path (--db or FULLCOURT_DB), or build one first "
                                "(fullcourt backfill ..., fullcourt import ...)")
    return Warehouse(path, catalog(), lock_timeout=lock_timeout())


def lock_timeout() -> float:
    """Seconds to wait for another command's lock: $FULLCOURT_LOCK_TIMEOUT (default 10)."""
    raw = os.environ.get("FULLCOURT_LOCK_TIMEOUT", "10")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise UsageError(f"FULLCOURT_LOCK_TIMEOUT={raw!r} is not a number of seconds, 0 or more",
                         remedy="set it to 0 or more, e.g. FULLCOURT_LOCK_TIMEOUT=30, or unset it")
    return seconds


def resolve_landing(landing: str | Path | None, must_exist: bool = False) -> Path:
    """The landing folder: `landing` / $FULLCOURT_LANDING / ./landing. With `must_exist` (a
    command that reads phase 1 files), a missing folder is a UsageError: read as "no files",
    it would replace stored partitions with empty ones."""
    path = Path(landing or os.environ.get("FULLCOURT_LANDING") or "landing")
    if must_exist and not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise UsageError(f"landing folder {path} {what}",
                         remedy=f"pass the folder the scraper writes to (--landing or FULLCOURT_LANDING), "
                                f"or scrape into it first: fullcourt scrape ... --landing {path}")
    return path


def select_specs(phase: int | None, processor: str | None) -> list[ProcessorSpec]:
    """The processors a command targets, in DAG order. Raises UsageError for unknown names."""
    reg = registry()
    if processor:
        spec = reg.get(processor)
        if spec is None:
            known = ", ".join(s.aliases[0] if s.aliases else s.name for s in reg.order)
            raise UsageError(f"unknown processor {processor!r}", remedy=f"use one of: {known}")
        if phase is not None and spec.phase != phase:
            raise UsageError(f"processor {spec.name} is in phase {spec.phase}, not {phase}",
                             remedy=f"drop --phase, or use --phase {spec.phase}")
        return [spec]
    if phase is None:
        raise UsageError("say which phase to run", remedy="add --phase 2, 3, 4 or 5 (predict), or --processor NAME")
    specs = reg.phase(phase)
    if not specs:
        raise UsageError(f"phase {phase} has no processors", remedy="phases are 2 (raw), 3 (analytics), 4 (precompute) and 5 (predictions)")
    return specs


def backfill(
    db: str | Path | None,
    landing: str | Path | None,
    dates: Sequence[date],
    phase: int | None = None,
    processor: str | None = None,
    *,
    policy: str = "skip-deps",
    order: str = "phase-first",
    resume: bool = True,
    skip_preflight: bool = False,
    trigger_downstream: bool = False,
    parallel: int = 2,
    chunk_days: int = 31,
    progress: Callable[[str, int, int], None] | None = None,
    explicit_dates: bool = False,
    cascade: bool = False,
) -> BackfillReport:
    """Backfill a phase (or one processor) over `dates` in dependency order (backfill mode:
    no defensive checks, no triggers unless `trigger_downstream`).

    Runs the phase's preflight first unless `skip_preflight` (raises PreflightError when the
    upstream phase is incomplete). Progress is checkpointed per processor and step; rerunning
    the same command resumes unless `resume` is False. `explicit_dates`: the dates were listed
    (`--dates`) rather than given as a range; they all run again even when the same backfill
    completed, as with `resume=False`. `cascade`: the caller cascades the loaded dates after
    (`--cascade`), named in the retry command. See engine/backfill.py for the orders and error
    policies. Only a first-phase backfill may create the store: later phases read one.
    """
    request = backfill_request(dates, phase, processor, policy, order, resume, trigger_downstream, parallel,
                               chunk_days)
    first = min(s.phase for s in registry().order)
    if cascade and any(s.phase != first for s in request.specs):
        raise UsageError("--cascade follows a phase 2 backfill", remedy="use it with --phase 2")  # before any work
    request.explicit, request.skip_preflight, request.cascade = explicit_dates, skip_preflight, cascade
    options = RunOptions(backfill_mode=True, strict_mode=False, skip_downstream_trigger=not trigger_downstream,
                         triggered_by="backfill")
    reads_landing = any(s.phase == first for s in request.specs)
    params = {"landing": resolve_landing(landing, must_exist=reads_landing)}
    with open_warehouse(db, create=reads_landing) as wh:
        if phase is not None and processor is None and not skip_preflight:
            pre = _preflight(wh, params["landing"], phase, min(dates), max(dates))
            if not pre.ok:
                raise PreflightError(
                    f"preflight for phase {phase} failed: upstream incomplete on {format_dates(pre.dates)}",
                    remedy=pre.remedy or f"backfill phase {phase - 1} for those dates first, or pass --skip-preflight",
                )
        return Backfill(wh, registry(), request, options, params, progress).run()


def backfill_request(
    dates: Sequence[date],
    phase: int | None,
    processor: str | None,
    policy: str = "skip-deps",
    order: str = "phase-first",
    resume: bool = True,
    trigger_downstream: bool = False,
    parallel: int = 2,
    chunk_days: int = 31,
) -> BackfillRequest:
    """Validate the options and build the request (raises UsageError naming the bad value)."""
    if policy not in POLICIES:
        raise UsageError(f"--error-policy {policy!r} is not one of {', '.join(POLICIES)}",
                         remedy=f"use --error-policy {' | '.join(POLICIES)} (default {DEFAULT_POLICY})")
    if order not in ORDERS:
        raise UsageError(f"--order {order!r} is not one of {', '.join(ORDERS)}",
                         remedy=f"use --order {' | '.join(ORDERS)} (default {DEFAULT_ORDER})")
    if parallel < 1:
        raise UsageError(f"--parallel {parallel} must be 1 or more", remedy="use --parallel 1 (serial) or more")
    specs = select_specs(phase, processor)
    target = f"--processor {processor}" if processor else f"--phase {phase}"
    return BackfillRequest(specs, sorted(set(dates)), target, policy, order, resume, chunk_days, parallel,
                           trigger_downstream)


def backfill_status(db: str | Path | None, dates: Sequence[date], phase: int | None, processor: str | None,
                    order: str = "phase-first") -> dict[str, Any]:
    """A backfill checkpoint's progress: per processor, last date done and done / total."""
    request = backfill_request(dates, phase, processor, order=order)
    with open_warehouse(db, create=False) as wh:
        return backfill_progress(wh, request)


class PreflightError(FullcourtError):
    """The upstream phase is incomplete for the backfill's dates."""


@dataclass
class Preflight:
    """Upstream coverage for a phase: `missing` dates per table/source, `failed` per processor."""

    phase: int
    start: date
    end: date
    missing: dict[str, list[date]] = field(default_factory=dict)
    failed: dict[str, list[date]] = field(default_factory=dict)
    remedy: str | None = None

    @property
    def dates(self) -> list[date]:
        return sorted({d for v in [*self.missing.values(), *self.failed.values()] for d in v})

    @property
    def ok(self) -> bool:
        return not self.dates

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase, "start": self.start.isoformat(), "end": self.end.isoformat(), "ok": self.ok,
            "dates": [d.isoformat() for d in self.dates],
            "missing": {k: [d.isoformat() for d in v] for k, v in self.missing.items()},
            "failed": {k: [d.isoformat() for d in v] for k, v in self.failed.items()},
            "remedy": locate(self.remedy),
        }


def _preflight(wh: Warehouse | None, landing: Path, phase: int, start: date, end: date) -> Preflight:
    if phase == 2:
        gaps = landing_gaps(landing, start, end)
        result = Preflight(phase, start, end, missing={"landing": sorted(gaps)} if gaps else {})
        if gaps:
            ds = sorted(gaps)
            result.remedy = (f"scrape them (fullcourt scrape --start-date {ds[0]} --end-date {ds[-1]}), "
                             "or pass --skip-preflight to backfill the dates that are there")
        return result
    assert wh is not None
    if phase == 5:  # predict reads the feature store: the game dates without it, but those empty on purpose
        from fullcourt.nba.predict import FEATURE_STORE, feature_dates, missing_features_remedy

        _, without, by_design = feature_dates(wh, start, end)
        missing = [d for d in without if d not in set(by_design)]
        return Preflight(phase, start, end, missing={FEATURE_STORE: missing} if missing else {},
                         remedy=missing_features_remedy(missing))
    pre = engine_preflight(wh, registry(), phase, start, end)
    result = Preflight(phase, start, end, dict(pre.missing), dict(pre.failed))
    if not pre.ok:
        result.remedy = (f"fullcourt backfill --phase {phase - 1} --dates {format_dates(pre.dates)}"
                         " (or pass --skip-preflight)")
    return result


def preflight(db: str | Path | None, landing: str | Path | None, phase: int, start: date, end: date) -> Preflight:
    """Check that the phase before `phase` is present for every game date of [start, end]
    (inclusive, plus the windows' lookback for phases 3+)."""
    if phase not in PHASES:
        raise UsageError(f"--phase {phase} is not a phase", remedy="use 2, 3, 4 or 5")
    folder = resolve_landing(landing, must_exist=phase == 2)
    if phase == 2:  # the landing folder's coverage: no store needed
        return _preflight(None, folder, phase, start, end)
    with open_warehouse(db, create=False) as wh:
        return _preflight(wh, folder, phase, start, end)


def run(db: str | Path | None, landing: str | Path | None, d: date, strict_mode: bool = True,
        skip_downstream_trigger: bool = False) -> FlowResult:
    """The daily flow for date `d`: phase 2, then the dispatcher runs phases 3 and 4 as their
    upstream succeeds (strict-mode checks before each processor unless `strict_mode` is off)."""
    options = RunOptions(backfill_mode=False, strict_mode=strict_mode,
                         skip_downstream_trigger=skip_downstream_trigger, triggered_by="cli")
    folder = resolve_landing(landing, must_exist=True)
    if season_by_label(season_label(d)) is None:  # no schedule can exist: scraping it would be refused
        first, last = SEASONS[0], SEASONS[-1]
        raise UsageError(f"{d} is outside every season of the calendar ({first.label} .. {last.label})",
                         remedy=f"give a date from {first.start} to {last.end}")
    schedule_file(folder, season_label(d), f"whether {d} has games")  # "no game today" or "no schedule"?
    with open_warehouse(db) as wh:
        return daily_run(wh, registry(), d, options, {"landing": folder})


def worker(db: str | Path | None, landing: str | Path | None, once: bool = True, poll_seconds: float = 5.0,
           strict_mode: bool = True, limit: int | None = None) -> FlowResult:
    """Consume trigger messages and run the downstream processors. With `once`, stop when no
    message is pending; otherwise poll every `poll_seconds` (the database is only held while
    there is work) until interrupted."""
    if not once and not poll_seconds > 0:
        raise UsageError(f"--poll-seconds {poll_seconds:g} is not above 0", remedy="give a positive number, e.g. 5")
    options = RunOptions(backfill_mode=False, strict_mode=strict_mode, triggered_by="trigger")
    consumer = f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # unique: a reused pid must not own a dead one's claims
    total = FlowResult()
    while True:
        with open_warehouse(db, create=False) as wh:
            res = worker_once(wh, registry(), options, {"landing": resolve_landing(landing)}, consumer, limit)
        total.runs += res.runs
        total.blocks += res.blocks
        total.alerts += res.alerts
        total.messages += res.messages
        if once:
            return total
        time.sleep(poll_seconds)


@dataclass
class StatusRow:
    data_date: date
    processor: str
    phase: str
    status: str
    records_created: int | None
    records_failed: int | None
    duration_seconds: float | None
    skip_reason: str | None
    errors: list[str]


@dataclass
class StatusResult:
    """Latest ledger row per date and processor in an inclusive range."""

    start: date
    end: date
    processors: list[str]
    rows: list[StatusRow]
    short_names: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": [
                {
                    "date": r.data_date.isoformat(),
                    "processor": r.processor,
                    "phase": r.phase,
                    "status": r.status,
                    "records_created": r.records_created,
                    "records_failed": r.records_failed,
                    "duration_seconds": r.duration_seconds,
                    "skip_reason": r.skip_reason,
                    "errors": r.errors,
                }
                for r in self.rows
            ],
        }


def status(db: str | Path | None, start: date, end: date) -> StatusResult:
    """Per date and processor in [start, end] (inclusive): last status, records, duration."""
    with open_warehouse(db, create=False) as wh:
        rows = wh.con.execute(
            f"""
            SELECT data_date, processor_name, phase,
                   {ledger.latest("status", "records_created", "records_failed", "duration_seconds", "skip_reason",
                           "errors")}
            FROM {wh.catalog.ledger_table}
            WHERE data_date BETWEEN ? AND ?
            GROUP BY 1, 2, 3 ORDER BY 1, 2
            """,
            [start, end],
        ).fetchall()
    from fullcourt.nba.predict import COORDINATOR

    order = [s.name for s in registry().order]
    out = [
        StatusRow(d, p, ph, st, rc, rf, dur, sr, json.loads(err) if err else [])
        for d, p, ph, st, rc, rf, dur, sr, err in rows
    ]
    out.sort(key=lambda r: (r.data_date, order.index(r.processor) if r.processor in order else 99))
    present = [p for p in order if any(r.processor == p for r in out)]
    present += sorted({r.processor for r in out} - set(order))  # e.g. phase 5's PredictionCoordinator
    short = {s.name: (min(s.aliases, key=len) if s.aliases else s.name) for s in registry().order}
    short[COORDINATOR] = "predict"
    return StatusResult(start, end, present, out, short)


@dataclass
class GapsResult:
    """Scheduled games absent from each checked table, in an inclusive range."""

    start: date
    end: date
    scheduled_games: int
    tables: list[Any]
    off_days: bool = False
    """No game is scheduled in the range, which lies inside a season whose schedule is loaded
    (games before and after it): off days, not a missing schedule."""
    schedule_span: tuple[date, date] | None = None
    """The first and last game dates of the loaded schedule (None: no schedule loaded)."""

    @property
    def missing_dates(self) -> list[date]:
        return sorted({d for t in self.tables for d in t.missing})

    @property
    def ok(self) -> bool:
        """Every scheduled game is present, and there was at least one to check (or the range is
        off days inside a loaded season)."""
        return (bool(self.scheduled_games) or self.off_days) and not self.missing_dates

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "scheduled_games": self.scheduled_games,
            "off_days": self.off_days,
            "schedule_span": [d.isoformat() for d in self.schedule_span] if self.schedule_span else None,
            "ok": self.ok,
            "missing_dates": [d.isoformat() for d in self.missing_dates],
            "tables": [t.to_dict() for t in self.tables],
        }


def gaps(db: str | Path | None, start: date, end: date, phase: int | None = None, table: str | None = None) -> GapsResult:
    """Find scheduled games missing from the tables that must hold every game (the specs that
    declare `complete_on`), or from one of them, in [start, end] (inclusive). A range without
    a scheduled game is `ok` only when it lies inside one loaded season (`off_days`)."""
    from fullcourt.engine.gaps import find_gaps

    checked = [s for s in registry().order if s.complete_on]
    named = [s for s in checked if not table or table in (s.output_table, s.output_table.split(".")[1])]
    if not named:
        known = ", ".join(s.output_table for s in checked)
        raise UsageError(f"unknown table {table!r} for gap detection", remedy=f"use one of: {known}")
    candidates = [s for s in named if phase is None or s.phase == phase]
    if not candidates and table:
        raise UsageError(f"{named[0].output_table} is in phase {named[0].phase}, not {phase}",
                         remedy=f"drop --phase, or use --phase {named[0].phase}")
    if not candidates:
        phases = sorted({s.phase for s in checked})
        raise UsageError(f"gaps checks phases {', '.join(map(str, phases))}, not {phase}",
                         remedy=f"use --phase {' or --phase '.join(map(str, phases))}, or drop --phase")
    with open_warehouse(db, create=False) as wh:
        scheduled, inside, first, last = wh.con.execute(
            """SELECT (SELECT count(*) FROM nba_raw.nbac_schedule WHERE game_date BETWEEN $start AND $end),
                      EXISTS (SELECT 1 FROM (SELECT min(game_date) AS first, max(game_date) AS last
                                             FROM nba_raw.nbac_schedule GROUP BY season)
                              WHERE first < $start AND last > $end),
                      (SELECT min(game_date) FROM nba_raw.nbac_schedule),
                      (SELECT max(game_date) FROM nba_raw.nbac_schedule)""", {"start": start, "end": end}).fetchone()
        found = [find_gaps(wh.con, wh.catalog.expected_keys_sql, s.output_table, s.date_column, s.complete_on,
                           start, end) for s in candidates]
    return GapsResult(start, end, scheduled, found, off_days=not scheduled and bool(inside),
                      schedule_span=(first, last) if first else None)


def scrape(
    landing: str | Path | None,
    source: str,
    start: date,
    end: date,
    seed: int | None = None,
    teams: int | None = None,
    players_per_team: int | None = None,
    fail_dates: set[date] | None = None,
    fail_games: set[str] | None = None,
    db: str | Path | None = None,
) -> Any:
    """Phase 1: write the source's payloads for [start, end] (inclusive) into the landing folder.

    `nba-api` fetches the season live from stats.nba.com (nba_api package, network) and imports
    it like the nba-shotchart bundle; its report is recorded in nba_processing.import_runs.
    The synthetic league's `seed`, `teams` and `players_per_team` default to the ones the
    landing folder was scraped with (its LEAGUE_FILE), else 7, 30 and 15; a different league
    in the same folder is a UsageError (two leagues would share one schedule file).
    """
    if source == "nba-api":
        from fullcourt.nba.sources.nba_api_live import scrape_nba_api

        folder = resolve_landing(landing)
        _check_league(folder, REAL)  # refused before anything is fetched
        started = datetime.now()
        report = scrape_nba_api(folder, start, end)
        _record_league(folder, REAL)
        with open_warehouse(db) as wh:
            _record_import(wh, report, started)
        return report
    if source != "synthetic":
        raise UsageError(f"unknown source {source!r}", remedy="use --source synthetic or --source nba-api")
    folder = resolve_landing(landing)
    league = _check_league(folder, {"source": "synthetic", "seed": seed, "teams": teams,
                                    "players_per_team": players_per_team})
    seed, teams, players_per_team = league["seed"], league["teams"], league["players_per_team"]
    if not 2 <= teams <= 30:
        raise UsageError(f"--teams {teams} is out of range", remedy="use 2 to 30 teams")
    if not 5 <= players_per_team <= 20:
        raise UsageError(f"--players-per-team {players_per_team} is out of range", remedy="use 5 to 20")
    if not seasons_overlapping(start, end):
        first, last = SEASONS[0], SEASONS[-1]
        raise UsageError(f"{start}..{end} is outside every season of the calendar "
                         f"({first.label} .. {last.label}): nothing to scrape",
                         remedy=f"pick dates inside a season, e.g. --start-date {first.start} --end-date {first.start}")
    outside = sorted(d for d in fail_dates or () if not start <= d <= end)
    if outside:
        raise UsageError(f"--fail-dates {format_dates(outside)} outside {start}..{end}: no outage would be simulated",
                         remedy="give dates inside the scraped range")
    from fullcourt.nba.sources.synthetic import scrape_synthetic

    config = LeagueConfig(seed=seed, teams=teams, players_per_team=players_per_team)
    result = scrape_synthetic(folder, start, end, config, frozenset(fail_dates or ()), frozenset(fail_games or ()))
    _record_league(folder, league)
    return result


LEAGUE_FILE = "fullcourt_league.json"
"""Which league a landing folder holds: {"source": "synthetic", "seed", "teams",
"players_per_team"} or {"source": "real"} (imports, nba-api), written by the first scrape or
import into the folder. Phase 2 reads only the payload files and ignores it."""
SYNTHETIC_DEFAULTS = {k: getattr(LeagueConfig(), k) for k in ("seed", "teams", "players_per_team")}
REAL = {"source": "real"}


def _schedule_teams(path: Path) -> int | None:
    """How many teams a league schedule file names (None when it cannot be read)."""
    try:
        days = json.loads(path.read_text(encoding="utf-8"))["leagueSchedule"]["gameDates"]
        return len({g[side]["teamTricode"] for day in days for g in day["games"] for side in ("homeTeam", "awayTeam")})
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
        return None


def _check_league(folder: Path, want: dict[str, Any]) -> dict[str, Any]:
    """The league `want` resolved against the one `folder` holds: unset (None) synthetic
    options take the folder's values, else the defaults. UsageError when the folder holds
    another source or another synthetic league (a scrape would rewrite its schedule file for
    a different league). `_record_league` records it once the payloads are written."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--landing {folder} is a file, not a folder", remedy="point --landing at a folder")
    path = folder / LEAGUE_FILE
    held: dict[str, Any] | None = None
    if path.is_file():
        try:
            held = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            held = None
        if not isinstance(held, dict) or held.get("source") not in ("synthetic", "real") or (
                held.get("source") == "synthetic" and not all(isinstance(held.get(k), int) for k in SYNTHETIC_DEFAULTS)):
            raise UsageError(f"{path} is not a league record fullcourt wrote",
                             remedy="restore it, or delete it to let the next scrape or import write it again")
    out = dict(want)
    if want["source"] == "synthetic":
        base = held if held and held.get("source") == "synthetic" else SYNTHETIC_DEFAULTS
        out.update({k: want[k] if want.get(k) is not None else base[k] for k in SYNTHETIC_DEFAULTS})
    if held and held.get("source") != want["source"]:
        have = "real NBA data" if held.get("source") == "real" else "a synthetic league"
        adding = "a synthetic league" if want["source"] == "synthetic" else "real data"
        raise UsageError(f"landing folder {folder} holds {have}; adding {adding} would mix two leagues in one "
                         "schedule", remedy="use another --landing for it")
    if held is None and want["source"] == "synthetic":  # a folder from before the league record
        for schedule in sorted((folder / "schedule").glob("*.json")):
            n = _schedule_teams(schedule)
            if n and n != out["teams"]:
                raise UsageError(f"landing folder {folder}'s schedule {schedule.name} has {n} teams; --teams "
                                 f"{out['teams']} would mix two leagues in one schedule",
                                 remedy=f"pass --teams {n} and the --players-per-team and --seed it was scraped "
                                        "with, or scrape into another --landing")
    if held and want["source"] == "synthetic":
        flag = {k: "--" + k.replace("_", "-") for k in SYNTHETIC_DEFAULTS}
        clash = [k for k in SYNTHETIC_DEFAULTS if want.get(k) is not None and want[k] != held.get(k)]
        if clash:
            league = ", ".join(f"{flag[k]} {held.get(k)}" for k in SYNTHETIC_DEFAULTS)
            asked = ", ".join(f"{flag[k]} {want[k]}" for k in clash)
            raise UsageError(f"landing folder {folder} holds the synthetic league {league}; {asked} would mix two "
                             "leagues in one schedule",
                             remedy="drop those options (the folder's league is the default), or scrape into another "
                                    "--landing")
    return out


def _record_league(folder: Path, league: dict[str, Any]) -> None:
    """Write `league` (as `_check_league` resolved it) as the folder's LEAGUE_FILE."""
    text = json.dumps(league, sort_keys=True) + "\n"
    path = folder / LEAGUE_FILE
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def predict(db: str | Path | None, start: date, end: date, force_rerun: bool = False) -> Any:
    """Phase 5: predict points for every player in the feature store, dates [start, end] inclusive.

    Existing predictions are kept unless `force_rerun`.
    """
    from fullcourt.nba import predict as phase5

    with open_warehouse(db, create=False) as wh:
        return phase5.predict(wh, start, end, force_rerun)


def grade(db: str | Path | None, start: date, end: date) -> Any:
    """MAE per system against actual points, and OVER/UNDER hit rate where lines exist."""
    from fullcourt.nba import predict as phase5

    with open_warehouse(db, create=False) as wh:
        return phase5.grade(wh, start, end)


def import_lines(db: str | Path | None, path: str | Path) -> Any:
    """Import real points lines from a CSV (player, game_date, line) into nba_raw.odds_player_props."""
    from fullcourt.nba import predict as phase5

    if not Path(path).is_file():
        what = "is a folder" if Path(path).is_dir() else "does not exist"
        raise UsageError(f"--path {path} {what}", remedy="point --path at the lines CSV (columns player, game_date, line)")
    with _removed_if_new_and_failed(db), open_warehouse(db) as wh:
        try:
            n, unknown = phase5.import_lines_csv(wh, path)
        except InputError as exc:
            exc.remedy = exc.remedy or ("fix the CSV (columns player, game_date YYYY-MM-DD, line; one row per player "
                                        "and date) and import it again: nothing was written")
            raise
    return ImportResult(format="lines-csv", path=str(path), rows=n, unknown_players=unknown)


def validate_coverage(db: str | Path | None, start: date, end: date, reconcile: bool = False,
                      processor: str | None = None) -> Any:
    """Coverage of the phase 4 processors over [start, end] (inclusive): every expected entity
    is a record or a tracked failure, else UNTRACKED; `reconcile` also checks the ledger's counts."""
    from fullcourt.engine.coverage import coverage

    specs = select_specs(None if processor else 4, processor)
    if specs[0].phase != 4:
        known = ", ".join(s.aliases[0] if s.aliases else s.name for s in registry().phase(4))
        raise UsageError(f"validate coverage checks the phase 4 processors; {specs[0].name} is in phase "
                         f"{specs[0].phase}", remedy=f"use --processor with one of: {known}, or drop it")
    with open_warehouse(db, create=False) as wh:
        return coverage(wh, specs, start, end, reconcile)


IMPORT_FORMATS = ("nba-stats-boxscores", "nba-shotchart", "lines-csv")


def import_bundle(db: str | Path | None, landing: str | Path | None, fmt: str, path: str | Path,
                  start: date | None = None, end: date | None = None) -> Any:
    """Import a real NBA.com-format bundle (folder `path`) into the landing folder, for the game
    dates in [start, end] (inclusive; None = the whole bundle), and record the import report in
    nba_processing.import_runs. Phase 2 then parses the payloads like any scrape's.

    Raises UsageError for an unknown format or bad range, InputError (nothing written) for a
    bundle with missing files, columns or an unknown season.
    """
    import duckdb

    from fullcourt.nba.sources import nba_shotchart, nba_stats_boxscores

    readers = {"nba-stats-boxscores": nba_stats_boxscores.import_bundle, "nba-shotchart": nba_shotchart.import_bundle}
    if fmt not in readers:
        raise UsageError(f"unknown import format {fmt!r}", remedy=f"use --format {' | '.join(IMPORT_FORMATS)}")
    if start and end and end < start:
        raise UsageError(f"--end-date {end} is before --start-date {start}", remedy="swap the dates")
    folder = Path(path)
    if not folder.exists():
        raise UsageError(f"--path {folder} does not exist", remedy=f"point --path at the {fmt} bundle's folder")
    if not folder.is_dir():
        raise UsageError(f"--path {folder} is not a folder", remedy=f"point --path at the {fmt} bundle's folder")
    target = resolve_landing(landing)
    _check_league(target, REAL)  # before anything is written; also refuses a --landing that is a file
    started = datetime.now()
    with _removed_if_new_and_failed(db), open_warehouse(db) as wh:  # the store first: a locked store refuses
        con = duckdb.connect()                                       # before any file is written
        try:
            report = readers[fmt](con, folder, target, start, end)
        except BaseException:
            if (target / "schedule").is_dir():  # payloads were written: the folder holds real data now
                with suppress(OSError):
                    _record_league(target, REAL)
            raise
        finally:
            con.close()
        _record_import(wh, report, started)
    _record_league(target, REAL)
    return report


@contextmanager
def _removed_if_new_and_failed(db: str | Path | None) -> Iterator[None]:
    """Around a command that may create the store: when it did and then failed, remove the new
    empty store, so a failed first import leaves nothing behind."""
    path = resolve_db_path(db)
    fresh = not path.exists()
    try:
        yield
    except DatabaseLockedError:  # another process created it meanwhile: its store, not ours
        raise
    except BaseException:
        if fresh:
            for f in (path, Path(f"{path}.wal")):
                f.unlink(missing_ok=True)
        raise


def _record_import(wh: Warehouse, report: Any, started: datetime) -> None:
    """Record the import report in import_runs; the report names the store (`db`) it went to."""
    from fullcourt.nba.schema import IMPORT_RUNS

    report.db = str(wh.path)
    d = report.to_dict()
    with wh.transaction() as con:
        con.execute(
            f"INSERT INTO {IMPORT_RUNS} VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [report.import_id, report.format, report.path, report.landing, started, report.start, report.end,
             d["dates"], d["games"], d["player_games"], json.dumps(d["rows_read"]), json.dumps(d["dropped"]),
             json.dumps(d["derived"]), json.dumps(d["disagreements"]), json.dumps(d["per_date"]), json.dumps(d)],
        )


@dataclass
class ImportResult:
    format: str
    path: str
    rows: int
    unknown_players: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "path": self.path, "rows": self.rows, "unknown_players": self.unknown_players}
