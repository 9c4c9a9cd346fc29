#!/usr/bin/env bash
# Benchmark: catalog a GPU-driver-sized package (400 files, about 1.5 GB, mostly PE) with
# `drvsign catalog --driver`, against coreutils sha1sum over the same files, in the same run.
# Reports median wall times of 3 runs, the ratio, and drvsign's peak RSS.
# Usage: bench/catalog.sh [BUILD_DIR]      (BENCH_TOTAL_MB, BENCH_FILES to scale it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
total_mb=${BENCH_TOTAL_MB:-1536}
files=${BENCH_FILES:-400}
runs=${BENCH_RUNS:-3}

. "$root/bench/lib.sh"
bench_setup
make_package "$files" "$total_mb"

ds_times=() sha_times=() rss=0
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/t" "$build/drvsign" catalog --quiet --driver "$pkg" --os 10_X64 >/dev/null
  read -r t r <"$work/t"; ds_times+=("$t"); [ "$r" -gt "$rss" ] && rss=$r
  /usr/bin/time -f "%e %M" -o "$work/t" sha1sum "$pkg"/amd64/* >/dev/null
  read -r t r <"$work/t"; sha_times+=("$t")
done
ds=$(printf '%s\n' "${ds_times[@]}" | median)
sha=$(printf '%s\n' "${sha_times[@]}" | median)
echo "Catalog of $files files, $((bytes >> 20)) MB (3/4 PE), median of $runs runs ($(nproc) cores)"
printf '  drvsign catalog   %6s s   peak RSS %d KB\n' "$ds" "$rss"
printf '  sha1sum (serial)  %6s s\n' "$sha"
awk -v a="$ds" -v b="$sha" 'BEGIN { printf "  drvsign is %.2fx faster than serial sha1sum\n", b / a }'
