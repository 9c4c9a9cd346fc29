#!/usr/bin/env bash
# A short fuzzing run from a seed corpus of real inputs: the built test binaries, signed and
# unsigned, and their PKCS#7 signatures.  Usage: run.sh FUZZER DRIVERS_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 drivers=$2 work=$3 seconds=$4
corpus=$work/corpus
rm -rf "$work"
mkdir -p "$corpus"
for f in "$drivers"/*; do
  base=$(basename "$f")
  "$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" --page-hashes --out "$work/$base" "$f"
  "$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" --append --digest sha1 "$work/$base"
  case $(basename "$fuzzer") in
    fuzz_pkcs7*) osslsigncode extract-signature -in "$work/$base" -out "$corpus/$base.p7" >/dev/null ;;
    *) cp "$f" "$corpus/$base"; cp "$work/$base" "$corpus/signed-$base" ;;
  esac
done
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/" "$corpus" >"$work/log" 2>&1 || {
  tail -n 60 "$work/log"
  echo "0 passed, 1 failed"
  exit 1
}
tail -n 8 "$work/log"
echo "1 passed, 0 failed"
