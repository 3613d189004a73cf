#!/usr/bin/env bash
# The fullcourt story on a synthetic November 2021: a scraper outage, a backfill that
# refuses to pretend, and the gap it leaves in plain sight.
set -uo pipefail
OUT=out/demo
rm -rf "$OUT" && mkdir -p "$OUT"
export FULLCOURT_DB="$OUT/fullcourt.duckdb" FULLCOURT_LANDING="$OUT/landing"
START=2021-11-01 END=2021-11-30 OUTAGE=2021-11-17

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
expect() {  # expect CODE command...: run it, fail the demo if the exit code differs
  local want=$1; shift
  "$@"; local got=$?
  if [ "$got" -ne "$want" ]; then echo "demo: '$*' exited $got, expected $want" >&2; exit 1; fi
}

step "Phase 1: scrape November 2021; the scraper is down on $OUTAGE" \
  fullcourt scrape --start-date $START --end-date $END --fail-dates $OUTAGE
expect 0 fullcourt scrape --start-date $START --end-date $END --fail-dates $OUTAGE

step "Phase 2: backfill raw; $OUTAGE fails loudly (exit 1) and names its fix" \
  fullcourt backfill --phase 2 --start-date $START --end-date $END
expect 1 fullcourt backfill --phase 2 --start-date $START --end-date $END

step "Phase 3: backfill analytics" fullcourt backfill --phase 3 --start-date $START --end-date $END
expect 0 fullcourt backfill --phase 3 --start-date $START --end-date $END

step "What ran" fullcourt status --start-date 2021-11-14 --end-date 2021-11-20
expect 0 fullcourt status --start-date 2021-11-14 --end-date 2021-11-20

step "The missing date, found against the schedule (exit 1)" fullcourt gaps --start-date $START --end-date $END
expect 1 fullcourt gaps --start-date $START --end-date $END

printf '\n\033[1mDemo finished:\033[0m %s is missing upstream and every tool says so.\n' "$OUTAGE"
