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
  fuzz_pkg*)
    # the template-shaped test INFs (stamped for amd64) with the files they ship, and the
    # test package with its layout: "path" lines, "--", the INF
    infs=$(cd "$(dirname "$0")/../infs" && pwd)
    for inx in "$infs"/*.inx; do
      {
        sed -n 's/^\([A-Za-z0-9_.]*\.\(sys\|dll\|exe\)\) *= *1.*/\1/p' "$inx"
        echo "--"
        sed -e 's/\$ARCH\$/amd64/g' -e 's|^DriverVer *=.*|DriverVer = 01/15/2023,1.0.0.1|' "$inx"
      } >"$corpus/$(basename "$inx" .inx).seed"
    done
    { (cd "$TOASTPKG" && find . -type f ! -name '*.inf' | sed 's|^\./||'); echo "--"; cat "$TOASTPKG/toastpkg.inf"; } >"$corpus/toastpkg.seed"
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
  fuzz_keys*)
    # the test PKI's identities: certificates (PEM chain, DER), PFX files (with and without a
    # password), and key+chain files (PKCS#8, encrypted, EC); the first byte picks the loader
    seed() { { printf "\\x$1"; shift; cat "$@"; } >"$corpus/$(basename "$1").$#"; }
    seed 00 "$PKI/leaf-chain.pem"
    openssl x509 -in "$PKI/leaf.pem" -outform DER -out "$work/leaf.der"
    seed 00 "$work/leaf.der"
    seed 01 "$PKI/leaf.pfx"
    seed 01 "$PKI/leaf-nopass.pfx"
    seed 02 "$PKI/leaf.key" "$PKI/leaf-chain.pem"
    seed 02 "$PKI/leaf-encrypted.key" "$PKI/leaf-chain.pem"
    seed 02 "$PKI/leaf-ec.key" "$PKI/leaf-ec-chain.pem"
    seed 02 "$PKI/leaf-ec384.key" "$PKI/leaf-ec384-chain.pem"
    ;;
  fuzz_manifest*)
    # manifests as the CMake module writes them, over the test package's INF
    cat >"$corpus/plan.manifest" <<MANIFEST
# drvsign package manifest
drvsign-manifest 1
name "toastpkg"
inf "$TOASTPKG/toastpkg.inf"
arch "amd64"
sign_mode "test"
os "10_X64"
driver_version "1.2.3.4"
driver_date "01/02/2024"
catalog_version "2"
page_hashes "1"
identity "$work/identity"
boot_start "toaster.sys"
output "$work/plan-package"
provides "toaster.sys"
provides "tostrcls.dll"
provides "tostrco2.dll"
MANIFEST
    printf 'drvsign-manifest 1\nname "x"\ninf "%s"\noutput "%s/o"\nsign_mode "off"\nos "10_X64"\nos "Server10_ARM64"\narch "arm64"\nkmdf_version "1.15"\n' \
      "$TOASTPKG/toastpkg.inf" "$work" >"$corpus/arm64.manifest"
    printf 'drvsign-manifest 1\nname "x"\ninf "%s"\noutput "%s/o"\nsign_mode "production"\npfx "%s"\npassword_file "%s"\ntimestamp_url "http://127.0.0.1:9/"\n' \
      "$TOASTPKG/toastpkg.inf" "$work" "$PKI/leaf.pfx" "$PKI/password.txt" >"$corpus/production.manifest"
    printf 'drvsign-manifest 1\nname "a\\"q\\\\ \\n|;=\xc3\xbc"\ninf "%s"\noutput "%s/o"\n' \
      "$TOASTPKG/toastpkg.inf" "$work" >"$corpus/quoted.manifest"
    ;;
  fuzz_timestamp*)
    # the test TSA's real replies to the target's fixed requests (nonce 0102030405060708,
    # SHA-256 imprint of its signature value), both protocols; and a text reply
    read -r port _ <"${TSA_STATE:?}/port"
    /usr/bin/python3 - "$port" "$corpus" <<'PY'
import base64, hashlib, sys, urllib.request
port, corpus = sys.argv[1], sys.argv[2]
value = b"drvsign fuzz signature value"
def tlv(tag, body):
    n = len(body)
    head = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([tag]) + head + body
sha256 = tlv(0x30, tlv(0x06, bytes.fromhex("608648016503040201")) + b"\x05\x00")
req = tlv(0x30, tlv(0x02, b"\x01") + tlv(0x30, sha256 + tlv(0x04, hashlib.sha256(value).digest()))
          + tlv(0x02, bytes(range(1, 9))) + tlv(0x01, b"\xff"))
def post(path, body, ctype):
    r = urllib.request.Request("http://127.0.0.1:%s/%s" % (port, path), body, {"Content-Type": ctype})
    return urllib.request.urlopen(r, timeout=30).read()
open(corpus + "/rfc3161", "wb").write(b"\x00" + post("rfc3161", req, "application/timestamp-query"))
legacy = tlv(0x30, tlv(0x06, bytes.fromhex("2b0601040182370302 01".replace(" ", "")))
             + tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010701")) + tlv(0xa0, tlv(0x04, value))))
open(corpus + "/legacy", "wb").write(b"\x01" + post("legacy", base64.b64encode(legacy), "application/octet-stream"))
open(corpus + "/text", "wb").write(b"\x00<html>503 Service Unavailable</html>")
PY
    ;;
  fuzz_writers*)
    # the test package's files as (name, contents) pairs; a PE first, for the PE writer
    /usr/bin/python3 - "$corpus" "$TOASTPKG" <<'PY'
import os, struct, sys
corpus, pkg = sys.argv[1], sys.argv[2]
def field(b): return struct.pack("<I", len(b)) + b
def pairs(flags, files):
    out = bytes([flags])
    for name, path in files:
        out += field(name.encode()) + field(open(os.path.join(pkg, path), "rb").read())
    return out
sys_ = [("amd64\\toaster.sys", "amd64/toaster.sys"), ("toastpkg.inf", "toastpkg.inf")]
dll = [("i386\\tostrcls.dll", "i386/tostrcls.dll"), ("toastpkg.tag", "toastpkg.tag"),
       ("amd64\\tostrco2.dll", "amd64/tostrco2.dll")]
open(corpus + "/pe-v1-mszip", "wb").write(pairs(0x01, sys_))
open(corpus + "/pe-v2-stored", "wb").write(pairs(0x06, dll))
open(corpus + "/flat", "wb").write(bytes([0x03]) + field(b"a.txt") + field(b"x" * 40000) + field("na\u00efve.dat".encode()) + field(b""))
PY
    ;;
  fuzz_pkcs7*)
    # signatures in every shape drvsign makes and reads: SHA-1 and SHA-256, page hashes V1
    # and V2, the optional attributes, an EC signer, RFC 3161 and legacy timestamps (from
    # the test TSA), nested, and the PKCS#7 of a signed catalog and a signed cabinet
    read -r port _ <"${TSA_STATE:?}/port"
    tsa=http://127.0.0.1:$port
    leaf=(--cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key")
    n=0
    sig() { # sign options...: toaster.sys signed so, its PKCS#7 a seed
      n=$((n + 1))
      cp "$drivers/toaster.sys" "$work/s$n.sys"
      "$DRVSIGN" sign --quiet "$@" "$work/s$n.sys"
      osslsigncode extract-signature -in "$work/s$n.sys" -out "$corpus/s$n.p7" >/dev/null
    }
    sig "${leaf[@]}"
    sig "${leaf[@]}" --digest sha1 --page-hashes
    sig "${leaf[@]}" --page-hashes
    sig "${leaf[@]}" --description "drvsign fuzz" --url https://example.invalid/ --signing-time
    sig --cert "$PKI/leaf-ec-chain.pem" --key "$PKI/leaf-ec.key"
    sig "${leaf[@]}" --timestamp "$tsa/rfc3161"
    sig "${leaf[@]}" --digest sha1 --timestamp-legacy "$tsa/legacy"
    cp "$drivers/toaster.sys" "$work/nested.sys"
    "$DRVSIGN" sign --quiet "${leaf[@]}" --digest sha1 --timestamp-legacy "$tsa/legacy" "$work/nested.sys"
    "$DRVSIGN" sign --quiet "${leaf[@]}" --append --page-hashes --timestamp "$tsa/rfc3161" "$work/nested.sys"
    osslsigncode extract-signature -in "$work/nested.sys" -out "$corpus/nested.p7" >/dev/null
    cp -r "$TOASTPKG" "$work/pkg"
    "$DRVSIGN" catalog --quiet --driver "$work/pkg" --os 10_X64 --time 1700000000
    "$DRVSIGN" sign --quiet "${leaf[@]}" "$work/pkg/tstamd64.cat"
    cp "$work/pkg/tstamd64.cat" "$corpus/catalog.p7"
    "$DRVSIGN" cab --quiet --time 1700000000 "${leaf[@]}" --out "$work/s.cab" "$TOASTPKG"
    osslsigncode extract-signature -in "$work/s.cab" -out "$corpus/cab.p7" >/dev/null
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
# the test root, for targets that check chains (fuzz_pkcs7)
export DRVSIGN_FUZZ_CA=$PKI/root.pem
# The targets' temp files (fuzz_common.h) go to a directory of this run's own, on tmpfs where
# there is one: the disk here trims every truncated block, which cost the targets half their
# speed. libFuzzer leaves with _Exit on SIGINT/SIGTERM, past the targets' atexit cleanup, so
# this script removes the directory however the run ends.
tmp_parent=/dev/shm
[ -d "$tmp_parent" ] && [ -w "$tmp_parent" ] || tmp_parent=$work
export TMPDIR
TMPDIR=$(mktemp -d "$tmp_parent/drvsign-fuzz.XXXXXX")
trap 'rm -rf "$TMPDIR"' EXIT
trap 'exit 130' INT TERM HUP
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/" "$@" "$corpus" >"$work/log" 2>&1 || {
  tail -n 60 "$work/log"
  echo "0 passed, 1 failed"
  exit 1
}
tail -n 8 "$work/log"
echo "1 passed, 0 failed"
