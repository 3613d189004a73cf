#!/usr/bin/env bash
# The fullcourt story on the REAL 2022-23 NBA season (NBA.com shot charts + nba_api game logs,
# ../shared/data/real/nba-shotchart): import -> history backfilled -> one day's files do not
# arrive -> the daily run fails, the next one is blocked -> the season is backfilled anyway,
# flagged incomplete -> the late day is imported -> backfill + cascade -> close -> verified ->
# predictions graded on the last month -> coverage reconciled with no UNTRACKED entity.
set -uo pipefail
BUNDLE=${FULLCOURT_REAL_BUNDLE:-../shared/data/real/nba-shotchart}
OUT=out/demo-real
rm -rf "$OUT" && mkdir -p "$OUT"
export FULLCOURT_DB="$OUT/fullcourt.duckdb" FULLCOURT_LANDING="$OUT/landing"
OPENING=2022-10-18 HISTORY_END=2023-01-15 OUTAGE=2023-01-16 NEXT=2023-01-17 SEASON_END=2023-04-09
LAST_MONTH=2023-03-10

DEMO=demo-real
source "$(dirname "$0")/lib.sh"
if [ ! -d "$BUNDLE" ]; then
  echo "demo-real: the real bundle is not at $BUNDLE; set FULLCOURT_REAL_BUNDLE to its folder" >&2; exit 2
fi

check 0 "Import the real season's history ($OPENING .. $HISTORY_END) into the landing folder" \
  fullcourt import --format nba-shotchart --path "$BUNDLE" --start-date $OPENING --end-date $HISTORY_END

for PHASE in 2 3 4; do
  check 0 "Backfill phase $PHASE over the history" \
    fullcourt backfill --phase $PHASE --start-date $OPENING --end-date $HISTORY_END
done

check 1 "Daily run for $OUTAGE: its files never arrived; phase 2 fails loudly (exit 1)" \
  fullcourt run --date $OUTAGE

step "The rest of the season arrives ($NEXT .. $SEASON_END), still without $OUTAGE" \
  fullcourt import --format nba-shotchart --path "$BUNDLE" --start-date $NEXT --end-date $SEASON_END
expect 0 fullcourt import --format nba-shotchart --path "$BUNDLE" --start-date $NEXT --end-date $SEASON_END --json > "$OUT/import-rest.json"

check 3 "Daily run for $NEXT: strict mode BLOCKS what would read $OUTAGE (exit 3)" \
  fullcourt run --date $NEXT

step "Backfill the rest of the season anyway (phases 2-4)" \
  "fullcourt backfill --phase N --start-date $NEXT --end-date $SEASON_END --skip-preflight"
for PHASE in 2 3 4; do
  expect 0 fullcourt backfill --phase $PHASE --start-date $NEXT --end-date $SEASON_END --skip-preflight
done

step "Those records know they are incomplete (exit 1)" \
  fullcourt completeness verify --start-date $NEXT --end-date $SEASON_END --expect-complete
expect 1 fullcourt completeness verify --start-date $NEXT --end-date $SEASON_END --expect-complete > "$OUT/verify-before.txt"
tail -n 3 "$OUT/verify-before.txt"

step "The late day is imported" fullcourt import --format nba-shotchart --path "$BUNDLE" --start-date $OUTAGE --end-date $OUTAGE
expect 0 fullcourt import --format nba-shotchart --path "$BUNDLE" --start-date $OUTAGE --end-date $OUTAGE --json > "$OUT/import-late.json"

recover $OPENING $OUTAGE $NEXT $SEASON_END $OUT/reports

check 0 "Coverage: every expected entity is a record or a tracked failure" \
  fullcourt validate coverage --start-date $OPENING --end-date $SEASON_END --reconcile

check 0 "Predict the season and grade the last month against the real points" \
  fullcourt predict --start-date $OPENING --end-date $SEASON_END
expect 0 fullcourt grade --start-date $LAST_MONTH --end-date $SEASON_END

printf '\n\033[1mReal-data demo finished:\033[0m the missing %s was caught, blocked, cascaded and verified on the 2022-23 season.\n' "$OUTAGE"
