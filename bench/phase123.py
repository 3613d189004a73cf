"""Benchmark: scrape one full synthetic season (30 teams) and run phases 2-3 on it.

Run: make bench   (or .venv/bin/python bench/phase123.py [--seasons N] [--threads N])
Prints seconds per step and records written; numbers go in docs/performance.md.
Target (issue 2): phases 2-3 for a season in 15 s or less on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from fullcourt.engine.runner import RunOptions, run_specs
from fullcourt.engine.warehouse import Warehouse
from fullcourt.dates import date_range as days
from fullcourt.nba.calendar import SEASONS
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seasons", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        dates = []
        t = time.perf_counter()
        for season in SEASONS[: args.seasons]:
            scrape_synthetic(landing, season.start, season.end, LeagueConfig(seed=7))
            dates += days(season.start, season.end)
        out["scrape_s"] = round(time.perf_counter() - t, 2)
        reg = registry()
        with Warehouse(Path(tmp) / "bench.duckdb", catalog(), threads=args.threads) as wh:
            for phase in (2, 3):
                t = time.perf_counter()
                results = run_specs(wh, reg.phase(phase), dates, RunOptions(backfill_mode=True), {"landing": landing})
                out[f"phase{phase}_s"] = round(time.perf_counter() - t, 2)
                out[f"phase{phase}_records"] = sum(r.records for r in results)
                out[f"phase{phase}_failed_dates"] = sum(len(r.failed) for r in results)
    out["phases23_s"] = round(out["phase2_s"] + out["phase3_s"], 2)
    out["seasons"] = args.seasons
    out["threads"] = args.threads
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
