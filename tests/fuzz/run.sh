#!/usr/bin/env bash
# A short fuzzing run from a seed corpus of real inputs: the built test binaries, signed and
# unsigned, and their PKCS#7 signatures.
# Usage: run.sh FUZZER DRIVERS_DIR WORK_DIR SECONDS [libFuzzer options, e.g. -runs=N]
set -euo pipefail
fuzzer=$1 drivers=$2 work=$3 seconds=$4
shift 4
corpus=$work/corpus
rm -rf "$work"
mkdir -p "$corpus"
case $(basename "$fuzzer") in
  fuzz_inf*)
    # the test package's INF, as UTF-8 and as UTF-16LE, and the INF-syntax corner cases
    cp "$TOASTPKG/toastpkg.inf" "$corpus/toastpkg.inf"
    { printf '\xff\xfe'; iconv -f UTF-8 -t UTF-16LE "$TOASTPKG/toastpkg.inf"; } >"$corpus/utf16.inf"
    printf '[Strings]\nA="x%%%%y"\n[s]\nk = %%A%%, "q""q", \\\n  more ; c\n[s]\nj=1\n' >"$corpus/syntax.inf"
    ;;
  fuzz_cat*)
    # unsigned v1 and v2 catalogs of the test package, and a signed one
    for v in 1 2; do
      cp -r "$TOASTPKG" "$work/pkg$v"
      "$DRVSIGN" catalog --quiet --driver "$work/pkg$v" --os 10_X64 --catalog-version $v --time 1700000000
      cp "$work/pkg$v/tstamd64.cat" "$corpus/v$v.cat"
    done
    cp "$work/pkg1/tstamd64.cat" "$corpus/signed.cat"
    "$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" "$corpus/signed.cat"
    ;;
  fuzz_cab*)
    # unsigned (MSZIP and stored) and signed cabinets of the test package, and gcab's
    "$DRVSIGN" cab --quiet --time 1700000000 --out "$corpus/mszip.cab" "$TOASTPKG"
    "$DRVSIGN" cab --quiet --time 1700000000 --compression none --out "$corpus/stored.cab" "$TOASTPKG"
    "$DRVSIGN" cab --quiet --time 1700000000 --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" \
      --out "$corpus/signed.cab" "$TOASTPKG"
    (cd "$TOASTPKG" && gcab -c -z "$corpus/gcab.cab" toastpkg.inf amd64/toaster.sys)
    ;;
  fuzz_request*)
    # a real request (RSA chain), and signer command strings
    cp "$drivers/toaster.sys" "$work/toaster.sys"
    "$DRVSIGN" sign --prepare --quiet --cert "$PKI/leaf-chain.pem" --out "$work/req" "$work/toaster.sys"
    cp "$work/req/toaster.sys.request" "$corpus/toaster.sys.request"
    printf '%s' "openssl pkeyutl -sign -inkey 'my key.pem' -pkeyopt digest:sha256" >"$corpus/cmd1"
    printf '%s' 'a "b \" c" d\ e '"'"'f'"'"'' >"$corpus/cmd2"
    ;;
  *)
    for f in "$drivers"/*; do
      base=$(basename "$f")
      "$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" --page-hashes --out "$work/$base" "$f"
      "$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" --append --digest sha1 "$work/$base"
      case $(basename "$fuzzer") in
        fuzz_pkcs7*) osslsigncode extract-signature -in "$work/$base" -out "$corpus/$base.p7" >/dev/null ;;
        *) cp "$f" "$corpus/$base"; cp "$work/$base" "$corpus/signed-$base" ;;
      esac
    done
    ;;
esac
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/" "$@" "$corpus" >"$work/log" 2>&1 || {
  tail -n 60 "$work/log"
  echo "0 passed, 1 failed"
  exit 1
}
tail -n 8 "$work/log"
echo "1 passed, 0 failed"
