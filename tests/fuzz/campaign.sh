#!/usr/bin/env bash
# The long fuzz campaign (issue 12): each target in turn, from run.sh's seeds, until it has
# run RUNS inputs or SECONDS have passed, niced; prints one line per target with its count.
# Usage: campaign.sh BUILD_DIR RUNS SECONDS TARGET...
#   BUILD_DIR: a -DDRVSIGN_FUZZ=ON build; the seeds come from a built test tree, named as the
#   tests name them: DRVSIGN, PKI, TOASTPKG and DRIVERS in the environment.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 runs=$2 seconds=$3
shift 3
for target in "$@"; do
  work=$build/campaign-$target
  nice -n 19 bash "$here/run.sh" "$build/tests/fuzz/$target" "${DRIVERS:?}" "$work" \
    "$seconds" -runs="$runs" >/dev/null 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  crashes=$(ls "$work" | grep -c '^\(crash\|leak\|timeout\|oom\)-' || true)
  echo "$(date -u +%T) $target: ${execs:-?} executions, exit $rc, $crashes findings"
done
