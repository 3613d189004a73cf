"""Benchmark: the real 2022-23 season (nba-shotchart bundle) imported and run through phases 2-5.

Reports the import report's totals, seconds per phase, the coverage reconcile (UNTRACKED must
be 0), the PSZA failure rate by season week, and both systems' MAE on the season's last month.

Run: .venv/bin/python bench/real_season.py [--path ../shared/data/real/nba-shotchart] [--keep DIR]
Numbers go in docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fullcourt import api
from fullcourt.dates import date_range
from fullcourt.nba.calendar import season_by_label
from season import PSZA_CURVE_SQL  # bench/season.py (this folder is on sys.path when run as a script)

BUNDLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "nba-shotchart"


def run(path: Path, work: Path) -> dict:
    season = season_by_label("2022-23")
    assert season is not None
    db, landing = work / "real.duckdb", work / "landing"
    out: dict = {}
    t = time.perf_counter()
    report = api.import_bundle(db, landing, "nba-shotchart", path)
    out["import_s"] = round(time.perf_counter() - t, 2)
    out["import"] = {k: v for k, v in report.to_dict().items() if k != "per_date"}
    days = date_range(season.start, season.end)
    total = 0.0
    for phase in (2, 3, 4):
        t = time.perf_counter()
        api.backfill(db, landing, days, phase=phase, skip_preflight=True, chunk_days=400)
        secs = time.perf_counter() - t
        total += secs
        out[f"phase{phase}_s"] = round(secs, 2)
    t = time.perf_counter()
    api.predict(db, season.start, season.end, force_rerun=True)
    out["phase5_s"] = round(time.perf_counter() - t, 2)
    out["phases2to5_s"] = round(total + out["phase5_s"], 2)
    cov = api.validate_coverage(db, season.start, season.end, reconcile=True)
    out["coverage"] = {p.processor: {"expected": p.expected, "records": p.records, "failures": p.failures,
                                     "untracked": p.untracked_count, "ledger_mismatch_dates": len(p.mismatched_dates)}
                       for p in cov.processors}
    out["coverage_ok"] = cov.ok
    out["last_month_grade"] = api.grade(db, season.end - timedelta(days=30), season.end).to_dict()
    with api.open_warehouse(db) as wh:
        out["psza_failure_pct_by_week"] = dict(
            wh.con.execute(PSZA_CURVE_SQL, [season.start, season.start, season.end]).fetchall())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", type=Path, default=BUNDLE)
    ap.add_argument("--keep", type=Path, default=None, help="keep the store and landing folder here")
    args = ap.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        out = run(args.path, args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = run(args.path, Path(tmp))
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
