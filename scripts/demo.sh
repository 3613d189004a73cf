#!/usr/bin/env bash
# The fullcourt story on a synthetic 2021-22 season start: history is backfilled, the scraper
# goes down on one day, the next daily run refuses to build on the hole, the backfill that
# fixes it runs, and the same daily run then succeeds through phase 4.
set -uo pipefail
OUT=out/demo
rm -rf "$OUT" && mkdir -p "$OUT"
export FULLCOURT_DB="$OUT/fullcourt.duckdb" FULLCOURT_LANDING="$OUT/landing"
OPENING=2021-10-19 HISTORY_END=2021-11-16 OUTAGE=2021-11-17 NEXT=2021-11-18

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
expect() {  # expect CODE command...: run it, fail the demo if the exit code differs
  local want=$1; shift
  "$@"; local got=$?
  if [ "$got" -ne "$want" ]; then echo "demo: '$*' exited $got, expected $want" >&2; exit 1; fi
}

step "Phase 1: scrape the season's first six weeks; the scraper is down on $OUTAGE" \
  fullcourt scrape --start-date $OPENING --end-date $NEXT --fail-dates $OUTAGE
expect 0 fullcourt scrape --start-date $OPENING --end-date $NEXT --fail-dates $OUTAGE

for PHASE in 2 3 4; do
  step "Backfill phase $PHASE over the history ($OPENING .. $HISTORY_END)" \
    fullcourt backfill --phase $PHASE --start-date $OPENING --end-date $HISTORY_END
  expect 0 fullcourt backfill --phase $PHASE --start-date $OPENING --end-date $HISTORY_END
done

step "Daily run for $OUTAGE: phase 2 finds no payloads and fails loudly (exit 1, alerts)" \
  fullcourt run --date $OUTAGE
expect 1 fullcourt run --date $OUTAGE

step "Daily run for $NEXT: phase 2 loads, then strict mode BLOCKS what would read $OUTAGE (exit 3)" \
  fullcourt run --date $NEXT
expect 3 fullcourt run --date $NEXT

step "The scraper is back: re-scrape $OUTAGE" fullcourt scrape --start-date $OUTAGE --end-date $OUTAGE
expect 0 fullcourt scrape --start-date $OUTAGE --end-date $OUTAGE

step "The fix the block named: backfill phases 2, 3 and 4 for $OUTAGE" \
  "fullcourt backfill --phase 2 --dates $OUTAGE && ... --phase 3 ... && ... --phase 4 --dates $OUTAGE"
for PHASE in 2 3 4; do expect 0 fullcourt backfill --phase $PHASE --dates $OUTAGE; done

step "The same daily run now succeeds, phase 2 through the feature store (exit 0)" fullcourt run --date $NEXT
expect 0 fullcourt run --date $NEXT

step "What ran around the outage" fullcourt status --start-date 2021-11-15 --end-date $NEXT
expect 0 fullcourt status --start-date 2021-11-15 --end-date $NEXT

step "No scheduled game is missing any more" fullcourt gaps --start-date $OPENING --end-date $NEXT
expect 0 fullcourt gaps --start-date $OPENING --end-date $NEXT

printf '\n\033[1mDemo finished:\033[0m the outage on %s was caught, blocked, fixed and run through.\n' "$OUTAGE"
