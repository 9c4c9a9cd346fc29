#!/usr/bin/env bash
# Benchmark: sign a 256 MB PE with drvsign and with osslsigncode, same key, same run, alternately:
#   1. to a new file (drvsign --out, osslsigncode -out);
#   2. in place: drvsign replaces the file durably (README), against osslsigncode to a new file
#      followed by a sync of its output, the same durability.
# Reports median wall times with their ranges, the ratios, CPU time and peak RSS.
# Usage: bench/pe_sign.sh [BUILD_DIR]   (BENCH_SIZE_MB, BENCH_RUNS)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
size_mb=${BENCH_SIZE_MB:-256}
. "$root/bench/lib.sh"
bench_setup

# A PE image with $size_mb MB of incompressible data after its last section: the hashed range
# is the whole file either way.
bash "$root/tests/drivers/build.sh" "$root/tests/drivers" "$work/drivers" >/dev/null
cp "$work/drivers/tool.exe" "$work/big.exe"
head -c $((size_mb << 20)) /dev/urandom >>"$work/big.exe"
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 30 \
  -subj "/CN=bench" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
cat "$work/big.exe" >/dev/null # warm the page cache for both tools alike

ds_new() { rm -f "$work/ds.exe"; cmd=("$build/drvsign" sign --quiet --cert "$work/cert.pem" --key "$work/key.pem" --out "$work/ds.exe" "$work/big.exe"); }
oss_new() { rm -f "$work/oss.exe"; cmd=(osslsigncode sign -certs "$work/cert.pem" -key "$work/key.pem" -h sha256 -in "$work/big.exe" -out "$work/oss.exe"); }
ds_in_place() {
  cp "$work/big.exe" "$work/inplace.exe" && cat "$work/inplace.exe" >/dev/null
  cmd=("$build/drvsign" sign --quiet --cert "$work/cert.pem" --key "$work/key.pem" "$work/inplace.exe")
}
oss_synced() {
  rm -f "$work/oss.exe"
  cmd=(sh -c 'osslsigncode sign -certs "$1" -key "$2" -h sha256 -in "$3" -out "$4" && sync "$4"' sh
       "$work/cert.pem" "$work/key.pem" "$work/big.exe" "$work/oss.exe")
}

echo "PE signing of a $((size_mb))-MB image ($(nproc) cores; openssl speed sha256: $(openssl speed -seconds 1 -bytes 1048576 -evp sha256 2>/dev/null | awk '/^sha256/ { printf "%.0f MB/s", $2 / 1000 }'))"
bench_pair "to a new file" drvsign ds_new osslsigncode oss_new
osslsigncode verify -CAfile "$work/cert.pem" -in "$work/ds.exe" >/dev/null 2>&1 ||
  { echo "bench: drvsign's output does not verify" >&2; exit 1; }
bench_pair "in place" "drvsign (in place)" ds_in_place "osslsigncode + sync" oss_synced
osslsigncode verify -CAfile "$work/cert.pem" -in "$work/inplace.exe" >/dev/null 2>&1 ||
  { echo "bench: drvsign's in-place output does not verify" >&2; exit 1; }
