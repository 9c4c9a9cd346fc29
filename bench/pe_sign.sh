#!/usr/bin/env bash
# Benchmark: sign a 256 MB PE with drvsign and with osslsigncode, same key, same machine, same
# run. Reports the median wall time of 5 runs each, the ratio, and the peak RSS (/usr/bin/time).
# Usage: bench/pe_sign.sh [BUILD_DIR]   (BUILD_DIR holds a built drvsign; default build-bench/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
size_mb=${BENCH_SIZE_MB:-256}
runs=${BENCH_RUNS:-5}

bash "$root/scripts/deps.sh" test
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
if [ ! -x "$build/drvsign" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDRVSIGN_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A PE image with $size_mb MB of incompressible data after its last section: the hashed range
# is the whole file either way.
bash "$root/tests/drivers/build.sh" "$root/tests/drivers" "$work/drivers" >/dev/null
cp "$work/drivers/tool.exe" "$work/big.exe"
head -c $((size_mb << 20)) /dev/urandom >>"$work/big.exe"
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 30 \
  -subj "/CN=bench" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
cat "$work/big.exe" >/dev/null # warm the page cache for both tools alike

measure() { # label cmd... -> prints "seconds max_rss_kb"
  local label=$1
  shift
  local times=() rss=0 t r
  for _ in $(seq "$runs"); do
    rm -f "$work/out.exe"
    sync # each run starts with no writeback pending from the one before
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
    read -r t r <"$work/time"
    times+=("$t")
    [ "$r" -gt "$rss" ] && rss=$r
  done
  t=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$t $rss"
}

read -r ds_t ds_rss < <(measure drvsign "$build/drvsign" sign --cert "$work/cert.pem" --key "$work/key.pem" \
  --out "$work/out.exe" "$work/big.exe")
osslsigncode verify -CAfile "$work/cert.pem" -in "$work/out.exe" >/dev/null 2>&1 ||
  { echo "bench: drvsign output does not verify" >&2; exit 1; }
read -r os_t os_rss < <(measure osslsigncode osslsigncode sign -certs "$work/cert.pem" -key "$work/key.pem" \
  -h sha256 -in "$work/big.exe" -out "$work/out.exe")

echo "PE signing, ${size_mb} MB image, median of $runs runs ($(nproc) cores)"
printf '  %-14s %8s s  peak RSS %7d KB\n' drvsign "$ds_t" "$ds_rss" osslsigncode "$os_t" "$os_rss"
awk -v a="$ds_t" -v b="$os_t" 'BEGIN { printf "  wall time ratio drvsign/osslsigncode: %.2f\n", a / b }'
