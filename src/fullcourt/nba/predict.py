"""Phase 5: points predictions from the ML feature store, and their grading.

Two prediction systems, one row per system × player × game date in
nba_predictions.ml_predictions_v2:

- `moving_average` (transparent baseline, computed in SQL)::

      predicted = 0.5·points_avg_last_5 + 0.3·points_avg_last_10 + 0.2·points_avg_season
                + 0.5·shot_zone_mismatch_score + 0.5·pace_score + 0.3·usage_spike_score
                + 0.05·(fatigue_score − 100)

  A missing average falls back to the next longer one (L5 → L10 → season → 0); a missing
  composite factor adds nothing (fatigue defaults to 100, fresh). The result is floored at 0
  and rounded to 2 decimals.
- `gradient_boosting`: a HistGradientBoostingRegressor (fixed random_state) on FEATURES,
  trained on feature rows joined to actual points (nba_analytics.player_game_summary).
  Retrained every four weeks: a date d uses the model trained on every row with game_date
  strictly before `block_start(d)` (the first day of d's 28-day block), so it never sees d or
  later. (Weekly retraining gave the same last-month MAE on four synthetic seasons, 3.9226 vs
  3.9207, at three times the cost.)
  With fewer than MIN_TRAINING_ROWS rows it falls back to the moving average, recommends
  PASS, and says so in model_version.

confidence (both systems, in [0, 1]) = consistency × coverage × (0.5 if incomplete else 1):
consistency = 1 − min(points_std_last_10, 20) / 20 (std missing → 10); coverage =
min(games_found / games_expected, 1) from historical_completeness (missing → 0.5);
"incomplete" = feature_incomplete_flag (features not complete or not production-ready).

recommendation: OVER when predicted − line ≥ 1.0, UNDER when ≤ −1.0, else PASS; PASS when
there is no line. The line is the median `player_points` line of the date, matched on
person_id, else on player_lookup.

Dates are `datetime.date`; every range is inclusive `[start, end]`.
"""
from __future__ import annotations

import csv
import math
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from fullcourt.dates import ISO_DATE
from fullcourt.engine.ledger import LedgerRow, latest, new_run_id, write_rows
from fullcourt.engine.warehouse import Migration, Warehouse, check_identifier
from fullcourt.errors import FullcourtError, InputError
from fullcourt.nba.calendar import season_of

FEATURE_STORE = "nba_predictions.ml_feature_store_v2"
FEATURE_PROCESSOR = "MLFeatureStoreProcessor"
"""The processor that writes FEATURE_STORE (its ledger says why a date has no rows)."""
PREDICTIONS = "nba_predictions.ml_predictions_v2"
ACTUALS = "nba_analytics.player_game_summary"
PROPS = "nba_raw.odds_player_props"
MARKET = "player_points"

MOVING_AVERAGE = "moving_average"
GRADIENT_BOOSTING = "gradient_boosting"
SYSTEMS = (MOVING_AVERAGE, GRADIENT_BOOSTING)
COORDINATOR = "PredictionCoordinator"
"""Phase 5's name in the ledger (the seeds' prediction coordinator)."""
MA_VERSION = "moving_average_v1"
GB_VERSION = "hgb_v1"

MIN_TRAINING_ROWS = 300
BLOCK_DAYS = 28
EDGE = 1.0
"""Points between prediction and line needed for OVER/UNDER."""

FEATURES = (
    "points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10",
    "games_in_last_7_days", "fatigue_score", "shot_zone_mismatch_score", "pace_score",
    "usage_spike_score", "rest_advantage", "recent_trend", "minutes_change",
    "opponent_def_rating", "opponent_pace", "home_away", "back_to_back", "pct_paint",
    "pct_mid_range", "pct_three", "pct_free_throw", "team_pace", "team_off_rating",
    "team_win_pct",
)

DDL = f"""
CREATE TABLE IF NOT EXISTS {PREDICTIONS} (
    system_id VARCHAR NOT NULL, game_date DATE NOT NULL, game_id VARCHAR, person_id BIGINT NOT NULL,
    player_lookup VARCHAR, player_name VARCHAR, team_abbr VARCHAR, predicted_points DOUBLE,
    confidence DOUBLE CHECK (confidence BETWEEN 0 AND 1), line DOUBLE,
    recommendation VARCHAR NOT NULL CHECK (recommendation IN ('OVER', 'UNDER', 'PASS')),
    feature_incomplete_flag BOOLEAN NOT NULL, model_version VARCHAR NOT NULL,
    run_id VARCHAR, processed_at TIMESTAMP)
"""

MIGRATIONS = (Migration(6, "predictions", DDL),)

MA_SQL = """greatest(0.0,
      0.5 * coalesce(f.points_avg_last_5, f.points_avg_last_10, f.points_avg_season, 0)
    + 0.3 * coalesce(f.points_avg_last_10, f.points_avg_season, 0)
    + 0.2 * coalesce(f.points_avg_season, 0)
    + 0.5 * coalesce(f.shot_zone_mismatch_score, 0)
    + 0.5 * coalesce(f.pace_score, 0)
    + 0.3 * coalesce(f.usage_spike_score, 0)
    + 0.05 * (coalesce(f.fatigue_score, 100) - 100))"""

INCOMPLETE_SQL = (
    "(NOT coalesce(f.historical_completeness.is_complete, FALSE) OR NOT coalesce(f.is_production_ready, FALSE))"
)

CONFIDENCE_SQL = f"""round(greatest(0.0, least(1.0,
      (1 - least(coalesce(f.points_std_last_10, 10), 20) / 20.0)
    * coalesce(least(f.historical_completeness.games_found::DOUBLE
                     / nullif(f.historical_completeness.games_expected, 0), 1.0), 0.5)
    * CASE WHEN {INCOMPLETE_SQL} THEN 0.5 ELSE 1.0 END)), 3)"""

# One SELECT shape for every system; {predicted}, {version}, {force_pass} and {join} vary.
# Parameters: $dates (the game dates to predict), $run_id.
SELECT_SQL = f"""
WITH props AS (
    SELECT game_date, person_id, player_lookup, line FROM {PROPS}
    WHERE market = '{MARKET}' AND game_date IN (SELECT unnest($dates::DATE[]))
),
by_person AS (
    SELECT game_date, person_id, median(line) AS line FROM props WHERE person_id IS NOT NULL GROUP BY ALL
),
by_lookup AS (SELECT game_date, player_lookup, median(line) AS line FROM props GROUP BY ALL),
p AS (
    SELECT '{{system}}' AS system_id, f.game_date, f.game_id, f.person_id, f.player_lookup, f.player_name,
           f.team_abbr, round({{predicted}}, 2) AS predicted_points, {CONFIDENCE_SQL} AS confidence,
           coalesce(bp.line, bl.line) AS line, {INCOMPLETE_SQL} AS feature_incomplete_flag,
           {{version}} AS model_version, {{force_pass}} AS force_pass
    FROM {FEATURE_STORE} f {{join}}
    LEFT JOIN by_person bp ON bp.game_date = f.game_date AND bp.person_id = f.person_id
    LEFT JOIN by_lookup bl ON bl.game_date = f.game_date AND bl.player_lookup = f.player_lookup
    WHERE f.game_date IN (SELECT unnest($dates::DATE[]))
)
SELECT system_id, game_date, game_id, person_id, player_lookup, player_name, team_abbr, predicted_points,
       confidence, line,
       CASE WHEN force_pass OR line IS NULL OR predicted_points IS NULL THEN 'PASS'
            WHEN round(predicted_points - line, 2) >= {EDGE} THEN 'OVER'
            WHEN round(predicted_points - line, 2) <= -{EDGE} THEN 'UNDER'
            ELSE 'PASS' END AS recommendation,
       feature_incomplete_flag, model_version, $run_id AS run_id, now()::TIMESTAMP AS processed_at
FROM p
"""

MODEL_VIEW = "_fullcourt_model_predictions"


def _select(system: str, predicted: str, version: str, force_pass: str, join: str = "") -> str:
    return SELECT_SQL.format(system=system, predicted=predicted, version=version, force_pass=force_pass, join=join)


MA_SELECT = _select(MOVING_AVERAGE, MA_SQL, f"'{MA_VERSION}'", "FALSE")
GB_SELECT = _select(
    GRADIENT_BOOSTING, "m.predicted_points", "m.model_version", "FALSE",
    join=f"JOIN {MODEL_VIEW} m ON m.game_date::DATE = f.game_date AND m.person_id = f.person_id",
)
FALLBACK_SELECT = _select(GRADIENT_BOOSTING, MA_SQL, "$version", "TRUE")


# ---------------------------------------------------------------- pure helpers


def block_start(d: date) -> date:
    """First day of d's retraining block.

    In a season the blocks are BLOCK_DAYS long (opening night + 28·k); off-season they are ISO
    weeks (Monday). The model for d is trained on rows strictly before this day.
    """
    season = season_of(d)
    if season is not None:
        return season.start + timedelta(days=(d - season.start).days // BLOCK_DAYS * BLOCK_DAYS)
    return d - timedelta(days=d.weekday())


def recommend(predicted: float | None, line: float | None, edge: float = EDGE) -> str:
    """OVER if predicted − line ≥ edge, UNDER if ≤ −edge, else PASS (PASS without a line).

    Mirrors the SQL in SELECT_SQL (difference rounded to 2 decimals before comparing).
    """
    if predicted is None or line is None:
        return "PASS"
    diff = round(predicted - line, 2)
    if diff >= edge:
        return "OVER"
    if diff <= -edge:
        return "UNDER"
    return "PASS"


LOOKUP_SQL = "regexp_replace(lower(strip_accents({x})), '[^a-z0-9]', '', 'g')"
"""player_lookup of a name: lower-cased, accents stripped, only [a-z0-9] kept."""


# ---------------------------------------------------------------- results


def _iso(d: date) -> str:
    return d.isoformat()


@dataclass
class Training:
    """One block's model: rows before `cutoff` (exclusive) trained it, or it fell back."""

    cutoff: date
    rows: int
    model_version: str
    fallback: bool

    def to_dict(self) -> dict[str, Any]:
        return {"cutoff": _iso(self.cutoff), "rows": self.rows, "model_version": self.model_version,
                "fallback": self.fallback}


def missing_features_remedy(missing: Sequence[date]) -> str | None:
    """The commands that find and fill game dates without feature rows (None for none)."""
    if not missing:
        return None
    a, b = min(missing), max(missing)
    return (f"fullcourt status --start-date {a} --end-date {b} shows why; run what is missing there "
            f"(fullcourt backfill --phase 2, 3 or 4 --start-date {a} --end-date {b}), then predict again")


@dataclass
class PredictResult:
    """What `predict` did over the inclusive range [start, end].

    dates: game dates with feature rows in range; rows_written: per system; dates_kept: per
    system, dates left as they were because predictions existed (no force_rerun);
    dates_without_features: scheduled game dates in range with no feature rows; by_design:
    those of them where the feature store's latest run skipped on purpose (a season's first
    days, `bootstrap`) or succeeded with every player a tracked failure (too few games yet).
    Any other scheduled date without features is a missing phase 4 (`ok` is False).
    """

    start: date
    end: date
    run_id: str
    dates: list[date] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SYSTEMS})
    dates_written: dict[str, list[date]] = field(default_factory=lambda: {s: [] for s in SYSTEMS})
    dates_kept: dict[str, list[date]] = field(default_factory=lambda: {s: [] for s in SYSTEMS})
    dates_without_features: list[date] = field(default_factory=list)
    by_design: list[date] = field(default_factory=list)
    trainings: list[Training] = field(default_factory=list)
    force_rerun: bool = False
    seconds: float = 0.0

    @property
    def unexpected_without_features(self) -> list[date]:
        """Scheduled game dates without feature rows that phase 4 did not leave empty on purpose."""
        empty = set(self.by_design)
        return [d for d in self.dates_without_features if d not in empty]

    @property
    def ok(self) -> bool:
        """Every scheduled game date has feature rows, or phase 4 left it empty on purpose."""
        return not self.unexpected_without_features

    @property
    def remedy(self) -> str | None:
        """The commands that find and fill the unexpected dates without features (None when ok)."""
        return missing_features_remedy(self.unexpected_without_features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start), "end": _iso(self.end), "run_id": self.run_id,
            "ok": self.ok,
            "force_rerun": self.force_rerun,
            "dates": [_iso(d) for d in self.dates],
            "rows_written": dict(self.rows_written),
            "dates_written": {s: [_iso(d) for d in ds] for s, ds in self.dates_written.items()},
            "dates_kept": {s: [_iso(d) for d in ds] for s, ds in self.dates_kept.items()},
            "dates_without_features": [_iso(d) for d in self.dates_without_features],
            "dates_without_features_by_design": [_iso(d) for d in self.by_design],
            "dates_without_features_unexpected": [_iso(d) for d in self.unexpected_without_features],
            "remedy": self.remedy,
            "trainings": [t.to_dict() for t in self.trainings],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class SystemGrade:
    """Grades of one system. mae/bias over graded predictions (bias = mean predicted − actual);
    hit_rate = hits / (bets − pushes) over OVER/UNDER with a line and an actual; None when empty."""

    system_id: str
    predictions: int
    graded: int
    mae: float | None
    bias: float | None
    with_line: int
    recommendations: dict[str, int]
    bets: int
    hits: int
    pushes: int
    hit_rate: float | None
    flagged_incomplete: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, recommendations=dict(self.recommendations))


@dataclass
class GradeResult:
    """Grades per system over the inclusive range [start, end]."""

    start: date
    end: date
    systems: dict[str, SystemGrade] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"start": _iso(self.start), "end": _iso(self.end),
                "systems": {k: v.to_dict() for k, v in self.systems.items()}, "seconds": round(self.seconds, 3)}


# ---------------------------------------------------------------- predict


def _require(wh: Warehouse, table: str, remedy: str) -> None:
    if not wh.table_exists(table):
        raise FullcourtError(f"table {table} does not exist in {wh.path}", remedy=remedy, table=table)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise FullcourtError(f"end date {end} is before start date {start}",
                             remedy="pass --start-date on or before --end-date (both inclusive)")


def _matrix(cols: dict[str, Any], names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([np.ma.asarray(cols[n], dtype=float).filled(np.nan) for n in names])


def _feature_select() -> str:
    return ", ".join(f"f.{c}::DOUBLE AS {c}" for c in FEATURES)


def train(wh: Warehouse, cutoff: date) -> tuple[Any, int]:
    """Fit the model on feature rows with game_date < cutoff that have actual points.

    Returns (model or None when fewer than MIN_TRAINING_ROWS rows, number of rows). One query.
    """
    cols = wh.con.execute(
        f"""SELECT {_feature_select()}, a.points::DOUBLE AS points
            FROM {FEATURE_STORE} f JOIN {ACTUALS} a ON a.game_date = f.game_date AND a.person_id = f.person_id
            WHERE f.game_date < ? AND a.points IS NOT NULL
            ORDER BY f.game_date, f.person_id""",
        [cutoff],
    ).fetchnumpy()
    n = len(cols["points"])
    if n < MIN_TRAINING_ROWS:
        return None, n
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingRegressor(
        max_iter=60, learning_rate=0.15, max_leaf_nodes=15, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=0,
    )
    # One OpenMP thread: next to DuckDB's threads, multi-threaded fits of this size ran 3-8x slower.
    with threadpool_limits(1):
        model.fit(_matrix(cols, FEATURES), np.ma.asarray(cols["points"], dtype=float).filled(np.nan))
    return model, n


def _model_predictions(wh: Warehouse, model, version: str, dates: list[date]) -> dict[str, np.ndarray]:
    cols = wh.con.execute(
        f"""SELECT f.game_date, f.person_id, {_feature_select()} FROM {FEATURE_STORE} f
            WHERE f.game_date IN (SELECT unnest(?::DATE[]))""",
        [dates],
    ).fetchnumpy()
    x = _matrix(cols, FEATURES)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        predicted = np.maximum(model.predict(x), 0.0) if len(x) else np.zeros(0)
    return {
        "game_date": np.asarray(cols["game_date"]),
        "person_id": np.asarray(cols["person_id"]),
        "predicted_points": predicted.astype(float),
        "model_version": np.array([version] * len(predicted), dtype=object),
    }


def feature_dates(wh: Warehouse, start: date, end: date) -> tuple[list[date], list[date], list[date]]:
    """(game dates with feature rows, scheduled game dates without, those of them phase 4 left
    empty on purpose) in the inclusive range [start, end]: see PredictResult."""
    con = wh.con
    dates = [r[0] for r in con.execute(
        f"SELECT DISTINCT game_date FROM {FEATURE_STORE} WHERE game_date BETWEEN ? AND ? ORDER BY 1",
        [start, end]).fetchall()]
    if not wh.table_exists("nba_raw.nbac_schedule"):
        return dates, [], []
    have = set(dates)
    without = [r[0] for r in con.execute(
        "SELECT DISTINCT game_date FROM nba_raw.nbac_schedule WHERE game_date BETWEEN ? AND ? ORDER BY 1",
        [start, end]).fetchall() if r[0] not in have]
    if not without:
        return dates, [], []
    by_design = [d for (d,) in con.execute(  # empty on purpose: bootstrap days, or every player a failure
        f"""SELECT data_date FROM (
                SELECT data_date, {latest("status", "skip_reason", "records_created", "records_failed")}
                FROM {check_identifier(wh.catalog.ledger_table)}
                WHERE processor_name = ? AND data_date IN (SELECT unnest(?::DATE[])) GROUP BY 1
            ) AS t(data_date, st, why, created, failed)
            WHERE (st = 'success' AND created = 0 AND failed > 0) OR (st = 'skipped' AND why = 'bootstrap')
            ORDER BY 1""",
        [FEATURE_PROCESSOR, without]).fetchall()]
    return dates, without, by_design


def predict(wh: Warehouse, start: date, end: date, force_rerun: bool = False) -> PredictResult:
    """Predict points for every feature row with game_date in the inclusive range [start, end].

    Without force_rerun a (system, game_date) that already has predictions is kept; with it
    it is replaced. Each retraining block is written atomically (set-based delete + insert, one transaction).
    Raises FullcourtError when the feature store or the predictions table is missing.
    """
    _check_range(start, end)
    _require(wh, FEATURE_STORE, f"build the feature store first: fullcourt backfill --phase 4 "
                                f"--start-date {start} --end-date {end}")
    _require(wh, PREDICTIONS, "the predictions migration is not applied: add fullcourt.nba.predict.MIGRATIONS "
                              "to the pipeline catalog")
    t0 = time.perf_counter()
    result = PredictResult(start=start, end=end, run_id=new_run_id(), force_rerun=force_rerun)
    con = wh.con
    result.dates, result.dates_without_features, result.by_design = feature_dates(wh, start, end)

    existing: set[tuple[str, date]] = set()
    if not force_rerun:
        existing = {(s, d) for s, d in con.execute(
            f"SELECT DISTINCT system_id, game_date FROM {PREDICTIONS} WHERE game_date BETWEEN ? AND ?",
            [start, end]).fetchall()}

    todo: dict[date, list[str]] = {}
    for d in result.dates:
        for system in SYSTEMS:
            if (system, d) in existing:
                result.dates_kept[system].append(d)
            else:
                todo.setdefault(d, []).append(system)

    blocks: dict[date, list[date]] = {}
    for d in sorted(todo):
        blocks.setdefault(block_start(d), []).append(d)

    for cutoff, dates in blocks.items():
        model_dates = [d for d in dates if GRADIENT_BOOSTING in todo[d]]
        fallback_version = None
        if model_dates:
            model, n = train(wh, cutoff)
            if model is None:
                fallback_version = f"{MA_VERSION}-fallback:train_rows={n}<{MIN_TRAINING_ROWS}"
                result.trainings.append(Training(cutoff, n, fallback_version, True))
            else:
                version = f"{GB_VERSION}:before={cutoff.isoformat()}:rows={n}"
                result.trainings.append(Training(cutoff, n, version, False))
                con.register(MODEL_VIEW, _model_predictions(wh, model, version, model_dates))
        try:
            _write_block(wh, {s: [d for d in dates if s in todo[d]] for s in SYSTEMS}, result, fallback_version)
        finally:
            if model_dates and fallback_version is None:
                con.unregister(MODEL_VIEW)
    result.seconds = time.perf_counter() - t0
    return result


def _write_block(
    wh: Warehouse, dates_by_system: dict[str, list[date]], result: PredictResult, fallback: str | None
) -> None:
    """Replace the predictions of each system for its dates, set-based, in one transaction, with
    one ledger row per date (processor PredictionCoordinator, phase 5: the seeds' name)."""
    started = datetime.now()
    with wh.transaction() as con:
        for system, dates in dates_by_system.items():
            if not dates:
                continue
            params: dict[str, object] = {"dates": dates, "run_id": result.run_id}
            con.execute(
                f"DELETE FROM {PREDICTIONS} WHERE system_id = ? AND game_date IN (SELECT unnest(?::DATE[]))",
                [system, dates],
            )
            if system == MOVING_AVERAGE:
                sql = MA_SELECT
            elif fallback is not None:
                sql, params = FALLBACK_SELECT, dict(params, version=fallback)
            else:
                sql = GB_SELECT
            result.rows_written[system] += con.execute(f"INSERT INTO {PREDICTIONS} {sql}", params).fetchone()[0]
            result.dates_written[system].extend(dates)
        block = sorted({d for ds in dates_by_system.values() for d in ds})
        written = dict(con.execute(
            f"SELECT game_date, count(*) FROM {PREDICTIONS} WHERE run_id = ? AND game_date IN (SELECT unnest(?::DATE[])) "
            "GROUP BY 1", [result.run_id, block]).fetchall())
        finished = datetime.now()
        write_rows(con, wh.catalog.ledger_table, result.run_id, [
            LedgerRow(COORDINATOR, "phase_5", d, "success", started, finished, records_created=written.get(d, 0))
            for d in block], {"backfill_mode": False, "triggered_by": "cli"})


# ---------------------------------------------------------------- grade


def grade(wh: Warehouse, start: date, end: date) -> GradeResult:
    """Grade predictions with game_date in the inclusive range [start, end] against actual points.

    A prediction is graded when the player has a row in player_game_summary (he played). A
    hit is OVER with actual > line or UNDER with actual < line; actual == line is a push,
    excluded from hit_rate. Every system present in the table or in SYSTEMS is reported.
    """
    _check_range(start, end)
    _require(wh, PREDICTIONS, "the predictions migration is not applied: add fullcourt.nba.predict.MIGRATIONS "
                              "to the pipeline catalog")
    t0 = time.perf_counter()
    rows = wh.con.execute(
        f"""
        WITH g AS (
            SELECT p.*, a.points::DOUBLE AS actual,
                   p.recommendation IN ('OVER', 'UNDER') AND p.line IS NOT NULL AND a.points IS NOT NULL AS bet
            FROM {PREDICTIONS} p
            LEFT JOIN (SELECT game_date, person_id, any_value(points) AS points FROM {ACTUALS}
                       WHERE game_date BETWEEN $s AND $e GROUP BY ALL) a
              ON a.game_date = p.game_date AND a.person_id = p.person_id
            WHERE p.game_date BETWEEN $s AND $e
        )
        SELECT system_id, count(*), count(actual) FILTER (WHERE predicted_points IS NOT NULL),
               avg(abs(predicted_points - actual)), avg(predicted_points - actual),
               count(*) FILTER (WHERE line IS NOT NULL),
               count(*) FILTER (WHERE recommendation = 'OVER'), count(*) FILTER (WHERE recommendation = 'UNDER'),
               count(*) FILTER (WHERE recommendation = 'PASS'),
               count(*) FILTER (WHERE bet),
               count(*) FILTER (WHERE bet AND ((recommendation = 'OVER' AND actual > line)
                                            OR (recommendation = 'UNDER' AND actual < line))),
               count(*) FILTER (WHERE bet AND actual = line),
               count(*) FILTER (WHERE feature_incomplete_flag)
        FROM g GROUP BY system_id ORDER BY system_id
        """,
        {"s": start, "e": end},
    ).fetchall()
    result = GradeResult(start=start, end=end)
    found = {r[0]: r for r in rows}
    for system in sorted(set(SYSTEMS) | set(found)):
        r = found.get(system) or (system, 0, 0, None, None, 0, 0, 0, 0, 0, 0, 0, 0)
        _, n, graded, mae, bias, with_line, over, under, pass_, bets, hits, pushes, flagged = r
        decided = bets - pushes
        result.systems[system] = SystemGrade(
            system_id=system, predictions=n, graded=graded,
            mae=None if mae is None else round(mae, 4), bias=None if bias is None else round(bias, 4),
            with_line=with_line, recommendations={"OVER": over, "UNDER": under, "PASS": pass_},
            bets=bets, hits=hits, pushes=pushes,
            hit_rate=round(hits / decided, 4) if decided else None, flagged_incomplete=flagged,
        )
    result.seconds = time.perf_counter() - t0
    return result


# ---------------------------------------------------------------- lines import

LINE_COLUMNS = ("player", "game_date", "line")
DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _read_lines(path: Path) -> list[tuple[str, date, float]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: file is empty; expected columns {', '.join(LINE_COLUMNS)}", path=str(path))
            names = [h.strip().lower() for h in header]
            missing = [c for c in LINE_COLUMNS if c not in names]
            if missing:
                raise InputError(f"{path}: missing column {', '.join(missing)} (header: {', '.join(names)})",
                                 path=str(path))
            idx = {c: names.index(c) for c in LINE_COLUMNS}
            rows: list[tuple[str, date, float]] = []
            for lineno, rec in enumerate(reader, start=2):
                if not any(v.strip() for v in rec):
                    continue
                if len(rec) < len(names):
                    raise InputError(f"{path}: row {lineno} has {len(rec)} fields, expected {len(names)}",
                                     path=str(path), row=lineno)
                player = rec[idx["player"]].strip()
                raw_date, raw_line = rec[idx["game_date"]].strip(), rec[idx["line"]].strip()
                if not player:
                    raise InputError(f"{path}: row {lineno} has an empty player", path=str(path), row=lineno)
                try:
                    if not ISO_DATE.fullmatch(raw_date):  # Python would also take 20211119 or 2021-W46-5
                        raise ValueError(raw_date)
                    d = date.fromisoformat(raw_date)
                except ValueError:
                    raise InputError(f"{path}: row {lineno} has bad game_date {raw_date!r} (expected YYYY-MM-DD)",
                                     path=str(path), row=lineno) from None
                value = float(raw_line) if DECIMAL.fullmatch(raw_line) else math.nan  # not "1_000", "nan", "inf"
                if not math.isfinite(value):
                    raise InputError(f"{path}: row {lineno} has non-numeric line {raw_line!r}",
                                     path=str(path), row=lineno)
                if value <= 0:
                    raise InputError(f"{path}: row {lineno} has line {raw_line!r}: a points line is above 0",
                                     path=str(path), row=lineno)
                rows.append((player, d, value))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text", path=str(path)) from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV ({exc})", path=str(path)) from None
    if not rows:
        raise InputError(f"{path}: no data rows", path=str(path))
    return rows


def import_lines_csv(wh: Warehouse, path: str | Path) -> tuple[int, list[str]]:
    """Import points lines from a CSV with columns player, game_date (YYYY-MM-DD), line.

    Rows go to nba_raw.odds_player_props (market 'player_points', person_id NULL,
    player_lookup from the name), replacing rows of the same (game_date, player_lookup), in
    one transaction. Returns the number of rows written and the names (as written in the file)
    of this file's players with no box score in the store: their lines never grade. Raises InputError (one line naming
    the file and the problem) for a missing column, a bad date, a non-numeric line, an empty
    player or a player listed twice for one date; nothing is written then.
    """
    path = Path(path)
    rows = _read_lines(path)
    # the rows travel as list parameters, zipped by DuckDB's parallel unnest (no Python row loop)
    staged = """SELECT unnest($names::VARCHAR[]) AS player_name, unnest($dates::DATE[]) AS game_date,
                        unnest($lines::DOUBLE[]) AS line"""
    params = {"names": [r[0] for r in rows], "dates": [r[1] for r in rows], "lines": [r[2] for r in rows]}
    with wh.transaction() as con:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _fullcourt_lines_import AS
                        SELECT *, {LOOKUP_SQL.format(x='player_name')} AS player_lookup FROM ({staged})""", params)
        bad = con.execute("""SELECT player_name FROM _fullcourt_lines_import WHERE player_lookup = ''
                             LIMIT 1""").fetchall()
        if bad:
            raise InputError(f"{path}: player {bad[0][0]!r} has no letters or digits", path=str(path))
        dup = con.execute("""SELECT any_value(player_name), game_date FROM _fullcourt_lines_import
                             GROUP BY game_date, player_lookup HAVING count(*) > 1 ORDER BY 2 LIMIT 1""").fetchall()
        if dup:
            raise InputError(f"{path}: player {dup[0][0]!r} appears twice for {dup[0][1]}", path=str(path))
        con.execute(f"""DELETE FROM {PROPS} o WHERE o.market = '{MARKET}' AND EXISTS (
            SELECT 1 FROM _fullcourt_lines_import v
            WHERE v.game_date = o.game_date AND v.player_lookup = o.player_lookup)""")
        con.execute(
            f"""INSERT INTO {PROPS} (game_date, game_id, person_id, player_lookup, player_name, team_abbr, market,
                                     line, source_file, run_id, processed_at)
                SELECT game_date, NULL, NULL, player_lookup, player_name, NULL, '{MARKET}', line, ?, ?,
                       now()::TIMESTAMP
                FROM _fullcourt_lines_import""",
            [str(path), new_run_id()],
        )
        unknown = [r[0] for r in con.execute(
            "SELECT DISTINCT player_name FROM _fullcourt_lines_import v WHERE NOT EXISTS "
            "(SELECT 1 FROM nba_raw.nbac_player_boxscore b WHERE b.player_lookup = v.player_lookup) "
            "ORDER BY 1").fetchall()]
        con.execute("DROP TABLE _fullcourt_lines_import")
    return len(rows), unknown
