#!/usr/bin/env bash
# Benchmark: pack the catalog benchmark's package (400 files, about 1.5 GB) into a cabinet with
# `drvsign cab --compression mszip` and with `gcab -c -z`, in the same run. Reports median wall
# times of 3 runs, the ratio, the output sizes and drvsign's peak RSS.
# Usage: bench/cab.sh [BUILD_DIR]      (BENCH_TOTAL_MB, BENCH_FILES to scale it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
total_mb=${BENCH_TOTAL_MB:-1536}
files=${BENCH_FILES:-400}
runs=${BENCH_RUNS:-3}
. "$root/bench/lib.sh"
bench_setup
make_package "$files" "$total_mb"

ds_times=() gcab_times=() rss=0
for _ in $(seq "$runs"); do
  rm -f "$work/drvsign.cab" "$work/gcab.cab"
  sync
  /usr/bin/time -f "%e %M" -o "$work/t" "$build/drvsign" cab --quiet --compression mszip \
    --out "$work/drvsign.cab" "$pkg"
  read -r t r <"$work/t"; ds_times+=("$t"); [ "$r" -gt "$rss" ] && rss=$r
  sync
  (cd "$work" && /usr/bin/time -f "%e %M" -o "$work/t" gcab -c -z "$work/gcab.cab" pkg/bench.inf pkg/amd64/*)
  read -r t r <"$work/t"; gcab_times+=("$t")
done
cabextract -q -t "$work/drvsign.cab" || { echo "bench: drvsign's cabinet does not test clean" >&2; exit 1; }
ds=$(printf '%s\n' "${ds_times[@]}" | median)
gc=$(printf '%s\n' "${gcab_times[@]}" | median)
ds_size=$(stat -c %s "$work/drvsign.cab")
gc_size=$(stat -c %s "$work/gcab.cab")
echo "MSZIP cabinet of $files files, $((bytes >> 20)) MB, median of $runs runs ($(nproc) cores)"
printf '  drvsign cab   %6s s   %d bytes   peak RSS %d KB\n' "$ds" "$ds_size" "$rss"
printf '  gcab -c -z    %6s s   %d bytes\n' "$gc" "$gc_size"
awk -v a="$ds" -v b="$gc" -v s="$ds_size" -v g="$gc_size" \
  'BEGIN { printf "  wall time ratio drvsign/gcab: %.2f; size ratio: %.4f\n", a / b, s / g }'
