#!/usr/bin/env bash
# Every test binary x digest x page hashes: sign, then osslsigncode, pefile and drvsign agree.
. "$(dirname "$0")/../lib.sh"

matrix() { # binary: every digest x page hashes
  local bin=$1 digest ph tag in out before
  for digest in sha256 sha1; do
    for ph in "" --page-hashes; do
      tag="$bin $digest${ph:+ page-hashes}"
      in="$DRIVERS/$bin"
      out="$WORK/${bin%.*}-$digest${ph:+-ph}.${bin##*.}"
      before=$(file_sum "$in")
      check "$tag: sign --out" "$DRVSIGN" sign "${LEAF[@]}" --digest "$digest" $ph --out "$out" "$in"
      check "$tag: input untouched" test "$before" = "$(file_sum "$in")"
      check "$tag: osslsigncode verify" oss_verify "$out"
      check "$tag: pefile checksum" pefile_checksum_ok "$out"
      check "$tag: drvsign verify" ds_verify "$out"
      check "$tag: size is a multiple of 8" test $(($(stat -c %s "$out") % 8)) -eq 0
      if [ -n "$ph" ]; then
        check_output "$tag: osslsigncode sees the page hashes" "Page hash algorithm *: ${digest^^}" \
          oss_verify "$out"
        check_output "$tag: drvsign checks the page hashes" "page hashes verified" ds_verify "$out"
      fi
    done
  done
}
behaviour_toaster_sys() { matrix toaster.sys; }
behaviour_toaster32_sys() { matrix toaster32.sys; }
behaviour_helper_dll() { matrix helper.dll; }
behaviour_helper32_dll() { matrix helper32.dll; }
behaviour_tool_exe() { matrix tool.exe; }

# The signature as signtool writes it: no signingTime, DER-sorted certificates, the
# Authenticode signed attributes. Read with openssl, not with our own parser.
behaviour_signed_attributes() {
local out="$WORK/attrs.sys"
setup "sign with --description and --url" "$DRVSIGN" sign "${LEAF[@]}" --description "Toaster Driver" --url "https://example.invalid/toaster" \
  --out "$out" "$DRIVERS/toaster.sys" || return
setup "osslsigncode extracts the signature" osslsigncode extract-signature -in "$out" -out "$WORK/sig.der" || return
openssl asn1parse -inform DER -in "$WORK/sig.der" >"$WORK/asn1.txt" 2>&1
check_exit "signature has no signingTime" 1 grep -q signingTime "$WORK/asn1.txt"
check "signature has messageDigest and contentType" \
  bash -c "grep -q messageDigest '$WORK/asn1.txt' && grep -q contentType '$WORK/asn1.txt'"
check "signature has SpcSpOpusInfo and SpcStatementType" \
  bash -c "grep -q '1.3.6.1.4.1.311.2.1.12' '$WORK/asn1.txt' && grep -q '1.3.6.1.4.1.311.2.1.11' '$WORK/asn1.txt'"
check "--signing-time adds signingTime" bash -c "
  '$DRVSIGN' sign --cert '$PKI/leaf-chain.pem' --key '$PKI/leaf.key' --signing-time --out '$WORK/st.sys' '$DRIVERS/toaster.sys' &&
  osslsigncode extract-signature -in '$WORK/st.sys' -out '$WORK/st.der' >/dev/null &&
  openssl asn1parse -inform DER -in '$WORK/st.der' | grep -q signingTime"
check "certificates are sorted by DER encoding" $PY - "$WORK/sig.der" <<'PY'
import subprocess, sys
pem = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-in", sys.argv[1], "-print_certs"],
                     check=True, capture_output=True, text=True).stdout
ders = []
for block in pem.split("-----END CERTIFICATE-----")[:-1]:
    block += "-----END CERTIFICATE-----\n"
    ders.append(subprocess.run(["openssl", "x509", "-outform", "DER"], input=block.encode(),
                               check=True, capture_output=True).stdout)
print(len(ders), "certificates")
sys.exit(0 if len(ders) == 2 and ders == sorted(ders) else 1)
PY
check_output "osslsigncode shows the description" "Toaster Driver" oss_verify "$out"
}

# Signing in place replaces the file atomically and leaves no temp file behind.
behaviour_in_place() {
cp "$DRIVERS/toaster.sys" "$WORK/inplace.sys"
chmod 640 "$WORK/inplace.sys"
check "sign in place" "$DRVSIGN" sign "${LEAF[@]}" "$WORK/inplace.sys"
check "in-place result verifies with osslsigncode" oss_verify "$WORK/inplace.sys"
check "in place keeps the file mode" test "$(stat -c %a "$WORK/inplace.sys")" = 640
check "no temp files left" lacks '\.ds' ls -a "$WORK"
}

# Several files in one call, with every key form.
behaviour_several_files_and_key_forms() {
local f
for f in a b c; do cp "$DRIVERS/toaster.sys" "$WORK/multi-$f.sys"; done
check "sign three files at once" "$DRVSIGN" sign "${LEAF[@]}" "$WORK"/multi-*.sys
check "all three verify" ds_verify "$WORK"/multi-*.sys
check "sign with an ECDSA P-256 key" "$DRVSIGN" sign --cert "$PKI/leaf-ec-chain.pem" --key "$PKI/leaf-ec.key" \
  --out "$WORK/ec.sys" "$DRIVERS/toaster.sys"
check "ECDSA signature: osslsigncode verify" oss_verify "$WORK/ec.sys"
check "ECDSA signature: drvsign verify" ds_verify "$WORK/ec.sys"
check "sign with a DER key and DER certificate + --add-cert" "$DRVSIGN" sign --cert "$PKI/leaf.cer" \
  --key "$PKI/leaf.der.key" --add-cert "$PKI/intermediate.pem" --out "$WORK/der.sys" "$DRIVERS/toaster.sys"
check "DER-key signature: osslsigncode verify" oss_verify "$WORK/der.sys"
}

run_behaviours "$@"
