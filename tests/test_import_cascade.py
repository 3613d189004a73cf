"""Real data, late: import a real stretch of season with two dates held back, run the pipeline,
import the two dates, cascade — the store equals a from-scratch rebuild on the whole import.

The fast test uses the NBA.com box-score bundle (2021-22 through 2021-11-30, two-zone
features); the slow ones use the real 2022-23 shot-chart season (three zones) and run the
whole season through phases 2-5 with the coverage reconcile.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from test_cascade import assert_equal_stores, recall_and_precision

from fullcourt import api, cascade_api
from fullcourt.dates import date_range

from realdata import BOXSCORES, SHOTCHART, needs_shotchart, require  # noqa: E402

require(BOXSCORES)


def build(db: Path, landing: Path, days: list[date]) -> None:
    for phase in (2, 3, 4):
        report = api.backfill(db, landing, days, phase=phase, skip_preflight=True, parallel=1)
        assert report.to_dict()["processors"], phase


def import_without(db: Path, landing: Path, fmt: str, bundle: Path, start: date, end: date,
                   holes: list[date]) -> None:
    """Import [start, end] except the dates of `holes` (one import per stretch between them)."""
    edges = [start - timedelta(days=1), *sorted(holes), end + timedelta(days=1)]
    for lo, hi in zip(edges, edges[1:]):
        if lo + timedelta(days=1) <= hi - timedelta(days=1):
            api.import_bundle(db, landing, fmt, bundle, lo + timedelta(days=1), hi - timedelta(days=1))


def held_back_cascade(root: Path, fmt: str, bundle: Path, start: date, end: date, late: list[date],
                      never_run: bool = False, still_missing: tuple[date, ...] = (), **batches):
    """Truth: the range imported (without `still_missing`) and built. Gapped: built without
    `late`'s files either (its phase 2 fails there and its descendants skip; with `never_run`
    those dates are never run at all, as after a failed daily run), then the late dates are
    imported, reloaded by phase 2 and cascaded while `still_missing` stays missing. Returns
    (truth db, gapped db, detect, reprocess)."""
    days = date_range(start, end)
    truth, gapped = root / "truth", root / "gapped"
    import_without(root / "truth.duckdb", truth, fmt, bundle, start, end, list(still_missing))
    build(root / "truth.duckdb", truth, days)
    db = root / "cascade.duckdb"
    import_without(db, gapped, fmt, bundle, start, end, [*late, *still_missing])
    assert not any((gapped / d.isoformat()).exists() for d in late)
    build(db, gapped, [d for d in days if not (never_run and d in late)])
    for d in late:
        api.import_bundle(db, gapped, fmt, bundle, d, d)
    loaded = api.backfill(db, gapped, late, phase=2, skip_preflight=True)
    assert loaded.ok, loaded.to_dict()
    detected = cascade_api.cascade_detect(db, late)
    reprocessed = cascade_api.cascade_reprocess(db, gapped, late, **batches)
    return root / "truth.duckdb", db, detected, reprocessed


@pytest.mark.parametrize("never_run, batches", [
    (False, {}), (True, {"parallel": 1}), (False, {"batch_size": 3, "parallel_dates": 2})],
    ids=["failed-then-skipped", "never-run-processors-one-at-a-time", "batches-of-3-two-at-a-time"])
def test_real_boxscores_two_dates_late_cascade_equals_a_rebuild(tmp_path, never_run, batches):
    late = [date(2021, 11, 10), date(2021, 11, 17)]
    truth, cascaded, detected, reprocessed = held_back_cascade(
        tmp_path, "nba-stats-boxscores", BOXSCORES, date(2021, 10, 19), date(2021, 11, 30), late, never_run,
        **batches)
    check(truth, cascaded, detected, reprocessed)


def test_a_cascade_with_another_gap_still_open_equals_a_rebuild_with_that_gap(tmp_path):
    """One late day arrives while another stays missing: the cascade leaves the missing day's
    descendants skipped, as a rebuild on the same data does (it does not compute them from
    nothing)."""
    truth, cascaded, detected, reprocessed = held_back_cascade(
        tmp_path, "nba-stats-boxscores", BOXSCORES, date(2021, 10, 19), date(2021, 11, 30), [date(2021, 11, 10)],
        still_missing=(date(2021, 11, 17),))
    check(truth, cascaded, detected, reprocessed)
    with api.open_warehouse(cascaded) as wh:
        left = wh.con.execute(
            "SELECT DISTINCT arg_max(status, started_at) FROM nba_reference.processor_run_history "
            "WHERE data_date = '2021-11-17' AND phase = 'phase_3' GROUP BY processor_name").fetchall()
    assert left == [("skipped",)]


def check(truth, cascaded, detected, reprocessed) -> None:
    assert_equal_stores(truth, cascaded)
    recall, precision = recall_and_precision(detected, reprocessed, cascaded)
    assert recall == 1.0 and 0 < precision <= 1
    changed = reprocessed.to_dict()
    assert changed["records_changed"] > 0
    with api.open_warehouse(cascaded) as wh:
        zones = wh.con.execute(
            "SELECT DISTINCT zone_detail FROM nba_precompute.player_shot_zone_analysis").fetchall()
    assert zones == [("two_zone",)]


@pytest.mark.slow
@needs_shotchart
def test_real_shotchart_month_two_dates_late_cascade_equals_a_rebuild(tmp_path):
    late = [date(2022, 11, 9), date(2022, 11, 16)]
    truth, cascaded, detected, reprocessed = held_back_cascade(
        tmp_path, "nba-shotchart", SHOTCHART, date(2022, 10, 18), date(2022, 11, 20), late)
    assert_equal_stores(truth, cascaded)
    recall, _ = recall_and_precision(detected, reprocessed, cascaded)
    assert recall == 1.0


@pytest.mark.slow
@needs_shotchart
def test_real_2022_23_season_phases_2_to_5_with_no_untracked_entity(tmp_path):
    db, landing = tmp_path / "real.duckdb", tmp_path / "landing"
    report = api.import_bundle(db, landing, "nba-shotchart", SHOTCHART)
    assert report.games == 1230
    start, end = date(2022, 10, 18), date(2023, 4, 9)
    build(db, landing, date_range(start, end))
    predicted = api.predict(db, start, end)
    assert predicted.to_dict()
    cov = api.validate_coverage(db, start, end, reconcile=True)
    assert cov.ok, cov.to_dict()
    assert all(p.dates > 0 and p.untracked_count == 0 for p in cov.processors)
    grade = api.grade(db, end - timedelta(days=30), end).to_dict()
    maes = {name: g["mae"] for name, g in grade["systems"].items()}
    assert maes["gradient_boosting"] < maes["moving_average"]
