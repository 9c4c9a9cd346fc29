#!/usr/bin/env bash
# Benchmark: MSZIP cabinets, `drvsign cab --compression mszip` against `gcab -c -z`, in the same
# run, alternately, on two packages:
#   1. the GPU-driver-sized package of bench/lib.sh (mostly incompressible, as a GPU driver is);
#   2. a compressible one: the mingw-w64 libraries and DLLs Debian ships (about 90 MB).
# Reports median wall times with their ranges, the ratio, the output sizes and peak RSS.
# Usage: bench/cab.sh [BUILD_DIR]   (BENCH_TOTAL_MB, BENCH_FILES, BENCH_RUNS to scale it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
total_mb=${BENCH_TOTAL_MB:-1536}
files=${BENCH_FILES:-400}
. "$root/bench/lib.sh"
bench_setup
make_package "$files" "$total_mb"

# the compressible package: real files others made
mingw=$work/mingw/mingw
mkdir -p "$mingw"
cp "$pkg/bench.inf" "$mingw/mingw.inf"
cp /usr/x86_64-w64-mingw32/lib/* "$mingw/" 2>/dev/null || true
cp /usr/lib/gcc/x86_64-w64-mingw32/*-win32/*.dll "$mingw/"
mingw_bytes=$(du -cb "$mingw" | tail -1 | cut -f1)
cat "$mingw"/* >/dev/null

ds_cab() { rm -f "$work/drvsign.cab"; cmd=("$build/drvsign" cab --quiet --compression mszip --out "$work/drvsign.cab" "$src"); }
# gcab stores the names as given: run it from the package's parent, as drvsign names them
gcab_cab() {
  rm -f "$work/gcab.cab"
  cmd=(bash -c 'cd "$1" && shift && exec gcab -c -z "$@"' gcab "$(dirname "$src")" "$work/gcab.cab")
  while IFS= read -r -d '' f; do cmd+=("${f#"$(dirname "$src")/"}"); done < <(find "$src" -type f -print0 | sort -z)
}

report() { # name
  cabextract -q -t "$work/drvsign.cab" >/dev/null || { echo "bench: drvsign's cabinet does not test clean" >&2; exit 1; }
  local ds_size gc_size
  ds_size=$(stat -c %s "$work/drvsign.cab")
  gc_size=$(stat -c %s "$work/gcab.cab")
  printf '  output: drvsign %d bytes, gcab %d bytes; size ratio %s\n' "$ds_size" "$gc_size" \
    "$(awk -v s="$ds_size" -v g="$gc_size" 'BEGIN { printf "%.4f", s / g }')"
}

src=$pkg
bench_pair "MSZIP cabinet of the GPU-sized package ($files files, $((bytes >> 20)) MB)" \
  "drvsign cab ($ncpu threads)" ds_cab "gcab -c -z" gcab_cab
report
src=$mingw
bench_pair "MSZIP cabinet of the mingw-w64 libraries ($(find "$mingw" -type f | wc -l) files, $((mingw_bytes >> 20)) MB)" \
  "drvsign cab ($ncpu threads)" ds_cab "gcab -c -z" gcab_cab
report
