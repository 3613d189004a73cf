#!/usr/bin/env bash
# The fullcourt story on a synthetic 2021-22 season start:
#   history backfilled -> the scraper goes down one day -> the next daily run refuses to build
#   on the hole -> the rest of the month is backfilled anyway, flagged incomplete -> the late
#   day arrives -> backfill + cascade (detect, reprocess) -> close -> verification passes.
set -uo pipefail
OUT=out/demo
rm -rf "$OUT" && mkdir -p "$OUT"
export FULLCOURT_DB="$OUT/fullcourt.duckdb" FULLCOURT_LANDING="$OUT/landing"
OPENING=2021-10-19 HISTORY_END=2021-11-16 OUTAGE=2021-11-17 NEXT=2021-11-18 MONTH_END=2021-11-30

DEMO=demo
source "$(dirname "$0")/lib.sh"

check 0 "Phase 1: scrape the season's first six weeks; the scraper is down on $OUTAGE" \
  fullcourt scrape --start-date $OPENING --end-date $MONTH_END --fail-dates $OUTAGE

for PHASE in 2 3 4; do
  check 0 "Backfill phase $PHASE over the history ($OPENING .. $HISTORY_END)" \
    fullcourt backfill --phase $PHASE --start-date $OPENING --end-date $HISTORY_END
done

check 1 "Daily run for $OUTAGE: phase 2 finds no payloads and fails loudly (exit 1, alerts)" \
  fullcourt run --date $OUTAGE

check 3 "Daily run for $NEXT: phase 2 loads, then strict mode BLOCKS what would read $OUTAGE (exit 3)" \
  fullcourt run --date $NEXT

step "The data is late; features must flow: backfill the rest of the month anyway (phases 2-4)" \
  "fullcourt backfill --phase N --start-date $NEXT --end-date $MONTH_END --skip-preflight"
for PHASE in 2 3 4; do
  expect 0 fullcourt backfill --phase $PHASE --start-date $NEXT --end-date $MONTH_END --skip-preflight
done

check 1 "Those records know they are incomplete, and why (exit 1)" \
  fullcourt completeness verify --start-date $NEXT --end-date $MONTH_END --expect-complete

check 0 "The late day arrives" \
  fullcourt scrape --start-date $OUTAGE --end-date $OUTAGE

recover $OPENING $OUTAGE $NEXT $MONTH_END $OUT/reports

printf '\n\033[1mDemo finished:\033[0m the outage on %s was caught, blocked, cascaded and verified.\n' "$OUTAGE"
