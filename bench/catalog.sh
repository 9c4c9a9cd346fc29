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

bash "$root/scripts/deps.sh" test
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
if [ ! -x "$build/drvsign" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDRVSIGN_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" >/dev/null
fi
work=${BENCH_WORK:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
pkg=$work/pkg
mkdir -p "$pkg/amd64"
bash "$root/tests/drivers/build.sh" "$root/tests/drivers" "$work/drivers" >/dev/null

# 3 in 4 files are PE images (a real image plus incompressible overlay), the rest data files;
# sizes vary from a few KB to about 4x the mean, as in a GPU driver.
mean_kb=$((total_mb * 1024 / files))
{
  printf '[Version]\nSignature="$WINDOWS NT$"\nClass=Display\nClassGuid={4d36e968-e325-11ce-bfc1-08002be10318}\n'
  printf 'Provider=bench\nDriverVer=01/01/2024,1.0.0.0\nCatalogFile=bench.cat\n'
  printf '[SourceDisksNames]\n1=disk,,,\\amd64\n[SourceDisksFiles]\n'
  for i in $(seq "$files"); do printf 'file%03d.%s=1\n' "$i" "$([ $((i % 4)) -eq 0 ] && echo bin || echo dll)"; done
  printf '[Manufacturer]\nBench=Models,NTamd64\n[Models.NTamd64]\nGPU=Install,pci\\ven_1234\n'
  printf '[Install.NTamd64]\nCopyFiles=Files\n[Files]\n'
  for i in $(seq "$files"); do printf 'file%03d.%s\n' "$i" "$([ $((i % 4)) -eq 0 ] && echo bin || echo dll)"; done
} >"$pkg/bench.inf"
for i in $(seq "$files"); do
  kb=$(( (i * 7919 % (mean_kb * 2)) + 4 ))
  if [ $((i % 4)) -eq 0 ]; then
    head -c $((kb * 1024)) /dev/urandom >"$pkg/amd64/$(printf 'file%03d.bin' "$i")"
  else
    f=$pkg/amd64/$(printf 'file%03d.dll' "$i")
    cp "$work/drivers/helper.dll" "$f"
    head -c $((kb * 1024)) /dev/urandom >>"$f"
  fi
done
bytes=$(du -cb "$pkg"/amd64/* | tail -1 | cut -f1)
cat "$pkg"/amd64/* >/dev/null # warm the page cache for both

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
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
