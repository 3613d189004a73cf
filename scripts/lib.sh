# Shared by the demos: printing steps, checking exit codes, and the recovery after a late day.
# DEMO names the script in error messages.

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }

expect() {  # expect CODE command...: run it, fail the demo if the exit code differs
  local want=$1; shift
  "$@"; local got=$?
  if [ "$got" -ne "$want" ]; then echo "$DEMO: '$*' exited $got, expected $want" >&2; exit 1; fi
}

check() {  # check CODE TITLE command...: print the step, then expect CODE from the command
  local want=$1 title=$2; shift 2
  step "$title" "$*"
  expect "$want" "$@"
}

recover() {  # recover OPENING OUTAGE NEXT END REPORTS: the late day's files have arrived
  local opening=$1 outage=$2 next=$3 end=$4 reports=$5
  check 0 "Backfill it and cascade: detect every record it changes, recompute only those (early cutoff)" \
    fullcourt backfill --phase 2 --dates "$outage" --cascade
  check 0 "Close the incident: clear the flags, write the report" \
    fullcourt cascade close --start-date "$outage" --end-date "$end" --report-dir "$reports"
  check 0 "Verification: every record after the outage is complete (exit 0)" \
    fullcourt completeness verify --start-date "$next" --end-date "$end" --expect-complete
  check 0 "And the daily run that was blocked now succeeds (exit 0)" fullcourt run --date "$next"
  check 0 "No scheduled game is missing any more" fullcourt gaps --start-date "$opening" --end-date "$end"
}
