"""Benchmark: synthetic seasons through phases 2-5, with the PSZA failure curve and model MAE.

Run: .venv/bin/python bench/season.py [--seasons 1|4] [--threads 2]
Targets (issue 3): one season through phases 2-5 in 30 s or less, four seasons in 60 s or less
(scraping, phase 1, is reported separately). Numbers go in docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fullcourt.engine.runner import RunOptions, run_specs
from fullcourt.engine.warehouse import Warehouse
from fullcourt.dates import date_range as days
from fullcourt.nba.calendar import SEASONS
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic

PSZA_CURVE_SQL = """
WITH f AS (SELECT analysis_date, count(*) AS n FROM nba_processing.precompute_failures
           WHERE processor_name = 'PlayerShotZoneAnalysisProcessor' GROUP BY 1),
     s AS (SELECT analysis_date, count(*) AS n FROM nba_precompute.player_shot_zone_analysis GROUP BY 1)
SELECT (analysis_date - ?::DATE) // 7 + 1 AS week,
       round(100.0 * sum(coalesce(f.n, 0)) / sum(coalesce(f.n, 0) + coalesce(s.n, 0)), 1) AS failure_pct
FROM f FULL JOIN s USING (analysis_date)
WHERE analysis_date BETWEEN ? AND ?
GROUP BY 1 ORDER BY 1
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seasons", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out: dict = {"seasons": args.seasons, "threads": args.threads}
    seasons = SEASONS[: args.seasons]
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        t = time.perf_counter()
        dates = []
        for season in seasons:
            scrape_synthetic(landing, season.start, season.end, LeagueConfig(seed=7))
            dates += days(season.start, season.end)
        out["scrape_s"] = round(time.perf_counter() - t, 2)
        reg = registry()
        with Warehouse(Path(tmp) / "bench.duckdb", catalog(), threads=args.threads) as wh:
            total = 0.0
            for phase in (2, 3, 4):
                t = time.perf_counter()
                results = run_specs(wh, reg.phase(phase), dates, RunOptions(backfill_mode=True), {"landing": landing})
                secs = time.perf_counter() - t
                total += secs
                out[f"phase{phase}_s"] = round(secs, 2)
                out[f"phase{phase}_records"] = sum(r.records for r in results)
                for r in results:
                    if phase == 4:
                        out[f"{r.processor}_s"] = round(r.seconds, 2)
            try:
                from fullcourt.nba import predict as p5
            except ImportError:
                p5 = None
            if p5 is not None:
                t = time.perf_counter()
                p5.predict(wh, seasons[0].start, seasons[-1].end, force_rerun=True)
                secs = time.perf_counter() - t
                total += secs
                out["phase5_s"] = round(secs, 2)
                last = seasons[-1]
                graded = p5.grade(wh, last.end - timedelta(days=30), last.end)
                out["last_month_grade"] = graded.to_dict()
            out["phases2to5_s"] = round(total, 2)
            first = seasons[0]
            out["psza_failure_pct_by_week"] = dict(
                wh.con.execute(PSZA_CURVE_SQL, [first.start, first.start, first.end]).fetchall()
            )
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
