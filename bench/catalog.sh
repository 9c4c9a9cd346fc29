#!/usr/bin/env bash
# Benchmark: catalogs against the machine's SHA-1 limit and against sha1sum, in the same run,
# alternately:
#   1. a GPU-driver-sized package (400 files, about 1.5 GB, mostly PE) with `drvsign catalog
#      --driver`: its throughput as a share of `openssl speed -multi <cores> -evp sha1` (the
#      limit: every core hashing, nothing else), its time against bench/hashloop.c, which
#      only hashes the same files, mapped as drvsign maps them (what reading them from the
#      page cache allows), and its time against serial sha1sum;
#   2. 10,000 files of 4 KB with `drvsign catalog --files`, against `find | xargs sha1sum`, and
#      as a share of the limit for 4 KB blocks.
# Usage: bench/catalog.sh [BUILD_DIR]   (BENCH_TOTAL_MB, BENCH_FILES, BENCH_SMALL_FILES, BENCH_RUNS)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
total_mb=${BENCH_TOTAL_MB:-1536}
files=${BENCH_FILES:-400}
small_files=${BENCH_SMALL_FILES:-10000}
. "$root/bench/lib.sh"
bench_setup
make_package "$files" "$total_mb"
small=$work/small
mkdir -p "$small"
head -c $((small_files * 4096)) /dev/urandom | split -a 5 -d -b 4096 - "$small/f"
small_bytes=$((small_files * 4096))
cat "$small"/* >/dev/null

# The page-cache limit: bench/hashloop.c, SHA-1 of the same files mapped as drvsign maps them,
# on every core, and nothing else.
cc -O2 -std=c11 -o "$work/hashloop" "$root/bench/hashloop.c" -lcrypto -lpthread

# share_of_limit TITLE BYTES BLOCK SETUP [LOOP_SETUP]: runs SETUP's command, LOOP_SETUP's (if
# given) and `openssl speed` in turns, and reports each command's throughput as a share of the
# speed of the same round.
share_of_limit() {
  local title=$1 nbytes=$2 block=$3 setup=$4 loop=${5:-} shares=() rates=() limits=() busy=()
  local loop_shares=() of_loop=() i limit rate loop_t ds_t
  for i in $(seq "$runs"); do
    "$setup"; time_one "${cmd[@]}"; busy+=("$others")
    rate=$(awk -v b="$nbytes" -v t="$t" 'BEGIN { printf "%.0f", b / t / 1e6 }')
    if [ -n "$loop" ]; then
      ds_t=$t
      "$loop"; time_one "${cmd[@]}"; loop_t=$t
      of_loop+=("$(awk -v a="$loop_t" -v b="$ds_t" 'BEGIN { printf "%.3f", a / b }')")
    fi
    limit=$(openssl speed -multi "$ncpu" -seconds 1 -bytes "$block" -evp sha1 2>/dev/null |
            awk '/^sha1/ { printf "%.0f", $2 / 1000 }')
    rates+=("$rate") limits+=("$limit")
    shares+=("$(awk -v r="$rate" -v l="$limit" 'BEGIN { printf "%.3f", r / l }')")
    [ -z "$loop" ] ||
      loop_shares+=("$(awk -v b="$nbytes" -v t="$loop_t" -v l="$limit" 'BEGIN { printf "%.3f", b / t / 1e6 / l }')")
  done
  echo "$title: $runs rounds of (drvsign,${loop:+ hashloop,} openssl speed -multi $ncpu -bytes $block -evp sha1)"
  echo "  drvsign $(printf '%s\n' "${rates[@]}" | median) MB/s ($(printf '%s\n' "${rates[@]}" | min_max)), peak RSS $rss KB;" \
       "limit $(printf '%s\n' "${limits[@]}" | median) MB/s ($(printf '%s\n' "${limits[@]}" | min_max))"
  echo "  share of the SHA-1 limit: median $(printf '%s\n' "${shares[@]}" | median) (per round $(printf '%s\n' "${shares[@]}" | min_max));" \
       "others $(printf '%s\n' "${busy[@]}" | median) s per drvsign run"
  if [ -n "$loop" ]; then
    echo "  hashloop (the same files mapped, EVP SHA-1 on every core, nothing else): share of the limit" \
         "median $(printf '%s\n' "${loop_shares[@]}" | median) ($(printf '%s\n' "${loop_shares[@]}" | min_max))"
    echo "  drvsign's share of hashloop's speed: median $(printf '%s\n' "${of_loop[@]}" | median)" \
         "($(printf '%s\n' "${of_loop[@]}" | min_max))"
  fi
}

ds_big() { cmd=("$build/drvsign" catalog --quiet --driver "$pkg" --os 10_X64 --out "$work/big.cat"); }
sha_big() { cmd=(sha1sum "$pkg"/amd64/*); }
loop_big() { cmd=("$work/hashloop" "$ncpu" "$pkg"/amd64/*); }
ds_small() {
  cmd=("$build/drvsign" catalog --quiet --files --out "$work/small.cat")
  cmd+=("$small"/*)
}
xargs_small() { cmd=(sh -c 'find "$1" -type f | xargs sha1sum' sh "$small"); }

share_of_limit "Catalog of $files files, $((bytes >> 20)) MB (3/4 PE)" "$bytes" 1048576 ds_big loop_big
bench_pair "... against sha1sum" "drvsign catalog" ds_big "sha1sum (serial)" sha_big
share_of_limit "Catalog of $small_files files of 4 KB" "$small_bytes" 4096 ds_small
bench_pair "... against find | xargs sha1sum" "drvsign catalog --files" ds_small "find | xargs sha1sum" xargs_small
