"""Library functions behind the CLI: each command is one call here, returning a result object.

Nothing here prints. The CLI renders the returned objects to the console or as JSON.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

from fullcourt.dates import format_dates
from fullcourt.engine.runner import ProcessorResult, RunOptions, run_levels
from fullcourt.engine.spec import ProcessorSpec, levels
from fullcourt.engine.warehouse import Warehouse, resolve_db_path
from fullcourt.errors import UsageError
from fullcourt.nba.pipeline import catalog, registry

PHASES = (2, 3, 4, 5)


def open_warehouse(db: str | Path | None) -> Warehouse:
    """Open (and migrate) the store at `db` / $FULLCOURT_DB / ./fullcourt.duckdb."""
    timeout = float(os.environ.get("FULLCOURT_LOCK_TIMEOUT", "10"))
    return Warehouse(resolve_db_path(db), catalog(), lock_timeout=timeout)


def resolve_landing(landing: str | Path | None) -> Path:
    return Path(landing or os.environ.get("FULLCOURT_LANDING") or "landing")


def select_specs(phase: int | None, processor: str | None) -> list[ProcessorSpec]:
    """The processors a command targets, in DAG order. Raises UsageError for unknown names."""
    reg = registry()
    if processor:
        spec = reg.get(processor)
        if spec is None:
            known = ", ".join(s.aliases[0] if s.aliases else s.name for s in reg.order)
            raise UsageError(f"unknown processor {processor!r}", remedy=f"use one of: {known}")
        if phase is not None and spec.phase != phase:
            raise UsageError(f"processor {spec.name} is in phase {spec.phase}, not {phase}")
        return [spec]
    if phase is None:
        raise UsageError("say which phase to run", remedy="add --phase 2, 3 or 4, or --processor NAME")
    specs = reg.phase(phase)
    if not specs:
        raise UsageError(f"phase {phase} has no processors", remedy="phases are 2 (raw), 3 (analytics), 4 (precompute) and 5 (predictions)")
    return specs


@dataclass
class BackfillResult:
    """Outcome of a backfill: one ProcessorResult per processor run, in order."""

    phase: int | None
    dates: list[date]
    processors: list[ProcessorResult] = field(default_factory=list)

    @property
    def failed_dates(self) -> list[date]:
        return sorted({d for p in self.processors for d in p.failed})

    @property
    def ok(self) -> bool:
        return not self.failed_dates

    def retry_command(self) -> str | None:
        if self.ok:
            return None
        target = f"--phase {self.phase}" if self.phase is not None else ""
        return f"fullcourt backfill {target} --dates {format_dates(self.failed_dates)}".replace("  ", " ")

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "dates": [d.isoformat() for d in self.dates],
            "ok": self.ok,
            "failed_dates": [d.isoformat() for d in self.failed_dates],
            "retry": self.retry_command(),
            "processors": [p.to_dict() for p in self.processors],
        }


def backfill(
    db: str | Path | None,
    landing: str | Path | None,
    dates: Sequence[date],
    phase: int | None = None,
    processor: str | None = None,
    skip_downstream_trigger: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    parallel: int = 2,
) -> BackfillResult:
    """Run the phase's processors (or one) over `dates` in backfill mode, in DAG order.

    Each processor covers all the dates before the next starts (seed 003's phase-first
    order); processors that do not depend on each other (TDZA and PSZA) run concurrently
    when `parallel` > 1. Failing dates are recorded and listed; the others are written.
    """
    specs = select_specs(phase, processor)
    options = RunOptions(
        backfill_mode=True, strict_mode=False, skip_downstream_trigger=skip_downstream_trigger, triggered_by="backfill"
    )
    result = BackfillResult(phase=phase if processor is None else specs[0].phase, dates=list(dates))
    params = {"landing": resolve_landing(landing)}
    with open_warehouse(db) as wh:
        result.processors = run_levels(wh, levels(registry(), specs), dates, options, params, parallel, progress)
    return result


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
    import json

    with open_warehouse(db) as wh:
        rows = wh.con.execute(
            f"""
            SELECT data_date, processor_name, phase,
                   arg_max(status, started_at), arg_max(records_created, started_at),
                   arg_max(records_failed, started_at), arg_max(duration_seconds, started_at),
                   arg_max(skip_reason, started_at), arg_max(errors, started_at)
            FROM {wh.catalog.ledger_table}
            WHERE data_date BETWEEN ? AND ?
            GROUP BY 1, 2, 3 ORDER BY 1, 2
            """,
            [start, end],
        ).fetchall()
    order = [s.name for s in registry().order]
    out = [
        StatusRow(d, p, ph, st, rc, rf, dur, sr, json.loads(err) if err else [])
        for d, p, ph, st, rc, rf, dur, sr, err in rows
    ]
    out.sort(key=lambda r: (r.data_date, order.index(r.processor) if r.processor in order else 99))
    present = [p for p in order if any(r.processor == p for r in out)]
    short = {s.name: (min(s.aliases, key=len) if s.aliases else s.name) for s in registry().order}
    return StatusResult(start, end, present, out, short)


GAP_TABLES: dict[int, tuple[tuple[str, str, str], ...]] = {
    2: (
        ("nba_raw.nbac_player_boxscore", "game_date", "game_id"),
        ("nba_raw.nbac_team_boxscore", "game_date", "game_id"),
        ("nba_raw.nbac_shots", "game_date", "game_id"),
    ),
    3: (
        ("nba_analytics.player_game_summary", "game_date", "game_id"),
        ("nba_analytics.team_defense_game_summary", "game_date", "game_id"),
        ("nba_analytics.team_offense_game_summary", "game_date", "game_id"),
    ),
}


@dataclass
class GapsResult:
    """Scheduled games absent from each checked table, in an inclusive range."""

    start: date
    end: date
    scheduled_games: int
    tables: list[Any]

    @property
    def missing_dates(self) -> list[date]:
        return sorted({d for t in self.tables for d in t.missing})

    @property
    def ok(self) -> bool:
        return not self.missing_dates

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "scheduled_games": self.scheduled_games,
            "ok": self.ok,
            "missing_dates": [d.isoformat() for d in self.missing_dates],
            "tables": [t.to_dict() for t in self.tables],
        }


def gaps(db: str | Path | None, start: date, end: date, phase: int | None = None, table: str | None = None) -> GapsResult:
    """Find scheduled games missing from the phase 2/3 tables (or one table) in [start, end]."""
    from fullcourt.engine.gaps import find_gaps

    candidates = [t for p, ts in GAP_TABLES.items() if phase is None or p == phase for t in ts]
    if phase is not None and phase not in GAP_TABLES:
        raise UsageError(f"gaps checks phases 2 and 3, not {phase}")
    if table:
        candidates = [t for t in candidates if t[0] == table or t[0].split(".")[1] == table]
        if not candidates:
            known = ", ".join(t[0] for ts in GAP_TABLES.values() for t in ts)
            raise UsageError(f"unknown table {table!r} for gap detection", remedy=f"use one of: {known}")
    with open_warehouse(db) as wh:
        scheduled = wh.con.execute(
            "SELECT count(*) FROM nba_raw.nbac_schedule WHERE game_date BETWEEN ? AND ?", [start, end]
        ).fetchone()[0]
        found = [find_gaps(wh.con, wh.catalog.expected_keys_sql, t, dc, kc, start, end) for t, dc, kc in candidates]
    return GapsResult(start, end, scheduled, found)


def scrape(
    landing: str | Path | None,
    source: str,
    start: date,
    end: date,
    seed: int = 7,
    teams: int = 30,
    players_per_team: int = 15,
    fail_dates: set[date] | None = None,
    fail_games: set[str] | None = None,
) -> Any:
    """Phase 1: write the source's payloads for [start, end] (inclusive) into the landing folder."""
    if source != "synthetic":
        if source == "nba-api":
            raise UsageError(
                "the nba-api source needs network access to stats.nba.com, which this machine does not have",
                remedy="use --source synthetic, or fullcourt import for NBA.com files you already have",
            )
        raise UsageError(f"unknown source {source!r}", remedy="use --source synthetic")
    if not 2 <= teams <= 30:
        raise UsageError(f"--teams {teams} is out of range", remedy="use 2 to 30 teams")
    if not 5 <= players_per_team <= 20:
        raise UsageError(f"--players-per-team {players_per_team} is out of range", remedy="use 5 to 20")
    from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic

    config = LeagueConfig(seed=seed, teams=teams, players_per_team=players_per_team)
    return scrape_synthetic(
        resolve_landing(landing), start, end, config, frozenset(fail_dates or ()), frozenset(fail_games or ())
    )


def predict(db: str | Path | None, start: date, end: date, force_rerun: bool = False) -> Any:
    """Phase 5: predict points for every player in the feature store, dates [start, end] inclusive.

    Existing predictions are kept unless `force_rerun`.
    """
    from fullcourt.nba import predict as phase5

    with open_warehouse(db) as wh:
        return phase5.predict(wh, start, end, force_rerun)


def grade(db: str | Path | None, start: date, end: date) -> Any:
    """MAE per system against actual points, and OVER/UNDER hit rate where lines exist."""
    from fullcourt.nba import predict as phase5

    with open_warehouse(db) as wh:
        return phase5.grade(wh, start, end)


def import_lines(db: str | Path | None, path: str | Path) -> Any:
    """Import real points lines from a CSV (player, game_date, line) into nba_raw.odds_player_props."""
    from fullcourt.nba import predict as phase5

    with open_warehouse(db) as wh:
        n = phase5.import_lines_csv(wh, path)
    return ImportResult(format="lines-csv", path=str(path), rows=n)


@dataclass
class ImportResult:
    format: str
    path: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "path": self.path, "rows": self.rows}
