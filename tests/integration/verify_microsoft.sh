#!/usr/bin/env bash
# Real Microsoft-signed files (the npm fixture: signtool@1.0.0 and nuget-exe@5.8.0) verify with
# Microsoft's roots, every signature and timestamp, as osslsigncode -ignore-crl says; they fail
# with the reason without those roots; a flipped byte in the signed range fails with "digest".
. "$(dirname "$0")/../lib.sh"
: "${MSFILES:?set MSFILES to the unpacked npm packages (fixture npm)}"
MS_ROOTS=$(cd "$(dirname "$0")/../../.." && pwd)/shared/reference/ms-roots.pem
VERDICTS="$PY $(dirname "$0")/../tools/verdicts.py"
ds_verify_ms() { "$DRVSIGN" verify --ca "$MS_ROOTS" "$@"; }
behaviour_fixture() {
local files
check "Microsoft's roots are in ../shared/reference" test -s "$MS_ROOTS"
mapfile -t files <"$MSFILES/files.txt"
check "the fixture has 9 PE files" test "${#files[@]}" -eq 9
}

ms_file() { # the fixture's file whose path ends with /SUFFIX: every check on it
  local f n kinds off
  f=$(grep -m1 -- "/$1\$" "$MSFILES/files.txt")
  [ -n "$f" ] || { _report fail "the npm fixture has no file */$1" /dev/null; return; }
  n=$(basename "$(dirname "$f")")/$(basename "$f")
  case $f in */nuget-*) kinds="rfc3161" ;; *) kinds="legacy rfc3161" ;; esac
  check "$n: verifies with ms-roots.pem" ds_verify_ms "$f"
  "$DRVSIGN" verify --ca "$MS_ROOTS" --json "$f" >"$WORK/v.json" 2>"$WORK/v.err"
  "$DRVSIGN" verify --ca "$MS_ROOTS" "$f" >"$WORK/v.txt" 2>&1
  check "$n: every signature valid and timestamped ($kinds), by Microsoft's TSA" $PY -c '
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
kinds = sys.argv[2].split()
sigs = f["signatures"]
assert f["verified"] and len(sigs) == len(kinds), f
for s, kind in zip(sigs, kinds):
    t = s["timestamp"]
    assert s["valid"] and s["chain"]["root_trusted"] and t["ok"] and t["kind"] == kind, s
    assert "Microsoft Time-Stamp" in t["tsa"] and t["time"][:2] == "20", t
    assert s["chain"]["time_source"] == "timestamp" and s["chain"]["time"] == t["time"], s
' "$WORK/v.json" "$kinds"
  check_output "$n: the text names each timestamp's time and TSA" \
    "timestamp 20[0-9-]+T[0-9:]+Z \\((legacy|rfc3161)\\) by \".*CN = Microsoft Time-Stamp Service\"\$" cat "$WORK/v.txt"
  check "$n: text and --json agree" $VERDICTS text "$WORK/v.json" "$WORK/v.txt"
  osslsigncode verify -CAfile "$MS_ROOTS" -TSA-CAfile "$MS_ROOTS" -ignore-crl -in "$f" >"$WORK/o.txt" 2>&1
  check "$n: osslsigncode -ignore-crl agrees (signatures, timestamp times)" $VERDICTS ossl "$WORK/v.json" "$WORK/o.txt"
  # the signing certificates have expired since: only the timestamp keeps them valid
  check_exit "$n: judged now (--time), the expired signer fails" 1 ds_verify_ms --time "$(date +%s)" "$f"
  check_error "... saying it expired" 1 "certificate chain: certificate has expired" ds_verify_ms --time "$(date +%s)" "$f"

  # without Microsoft's roots: the system store, then our test root
  check_exit "$n: without --ca (system store) it fails" 1 "$DRVSIGN" verify "$f"
  check_error "... naming the untrusted root and suggesting --ca" 1 \
    "ends at \"Microsoft (Code Signing|Time-Stamp) PCA.*\", whose issuer \"Microsoft Root (Certificate )?Authority.*\" is not a trusted root" \
    "$DRVSIGN" verify "$f"
  check_error "... and the hint names --ca" 1 "hint: to trust a root, give its certificate with --ca FILE" "$DRVSIGN" verify "$f"
  check_exit "$n: with the test root it fails" 1 ds_verify "$f"
  check_exit "... and osslsigncode with the test root refuses it too" 1 \
    osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-crl -in "$f"

  # one byte of the first section flipped: the image digest, nothing else
  cp "$f" "$WORK/t.bin"
  off=$(pe_field "$WORK/t.bin" 'pe.sections[0].PointerToRawData + 64')
  flip_byte "$WORK/t.bin" "$off"
  check_exit "$n: a flipped byte in the signed range fails" 1 ds_verify_ms "$WORK/t.bin"
  ds_verify_ms "$WORK/t.bin" >"$WORK/t.txt" 2>&1
  check "... every signature with \"digest\"" test "$(grep -c '^drvsign: .*: signature [0-9]: .*digest' "$WORK/t.txt")" -eq "$(wc -w <<<"$kinds")"
  check_exit "... none with a timestamp or chain problem" 1 grep -Eq '^drvsign: .*signature [0-9]: (timestamp|certificate chain)' "$WORK/t.txt"
  check_exit "... and osslsigncode refuses it too" 1 \
    osslsigncode verify -CAfile "$MS_ROOTS" -TSA-CAfile "$MS_ROOTS" -ignore-crl -in "$WORK/t.bin"
}
behaviour_nuget_exe() { ms_file nuget-5.8.0.exe; }
behaviour_x64_makecat() { ms_file x64/makecat.exe; }
behaviour_x64_mssign32() { ms_file x64/mssign32.dll; }
behaviour_x64_signtool() { ms_file x64/signtool.exe; }
behaviour_x64_wintrust() { ms_file x64/wintrust.dll; }
behaviour_x86_makecat() { ms_file x86/makecat.exe; }
behaviour_x86_mssign32() { ms_file x86/mssign32.dll; }
behaviour_x86_signtool() { ms_file x86/signtool.exe; }
behaviour_x86_wintrust() { ms_file x86/wintrust.dll; }

run_behaviours "$@"
