#!/usr/bin/env bash
# Catalogs in Partner Center's style (tests/tools/pccat.py: Qualification Level, DTC, BundleID,
# OS, HWIDn; v1 and v2 members), signed by a test "Hardware Compatibility Publisher" and
# timestamped by a TSA whose timeStamping EKU is not critical, under a CA with an EKU list of its
# own, the way Microsoft's older PKI is made. drvsign must accept what Windows accepts, and each
# verdict is compared with osslsigncode -ignore-crl's.
. "$(dirname "$0")/../lib.sh"
: "${TSA_STATE:?}" "${TOASTPKG:?}"
read -r port _ <"$TSA_STATE/port"
TSA=http://127.0.0.1:$port
ROOT=$PKI/partner-root.pem
PUB=(--cert "$PKI/partner-publisher-chain.pem" --key "$PKI/partner-publisher.key")
VERDICTS="$PY $(dirname "$0")/../tools/verdicts.py"
PCCAT="$PY $(dirname "$0")/../tools/pccat.py"
ds_pc() { "$DRVSIGN" verify --ca "$ROOT" "$@"; }
oss_pc() { osslsigncode verify -CAfile "$ROOT" -TSA-CAfile "$ROOT" -ignore-crl "$@"; }
# compare drvsign's verdict on FILE with osslsigncode's (both accept or both refuse, and the
# same signatures and timestamp times)
same_verdict() {
  "$DRVSIGN" verify --ca "$ROOT" --json "$1" >"$WORK/c.json" 2>/dev/null
  oss_pc -in "$1" >"$WORK/c.txt" 2>&1
  $VERDICTS ossl "$WORK/c.json" "$WORK/c.txt"
}
# the package in this behaviour's WORK, and its catalog's members
pkg_members() {
  pkg=$WORK/pkg
  [ -e "$pkg" ] || cp -r "$TOASTPKG" "$pkg"
  members=("$pkg/toastpkg.inf" "$pkg"/amd64/*)
}
# pc_signed V: $WORK/pcV.cat, a Partner Center-style catalog signed and RFC 3161-timestamped
pc_signed() {
  pkg_members
  cat=$WORK/pc$1.cat
  setup "v$1: a Partner Center-style catalog" $PCCAT $1 "$cat" "${members[@]}" || return
  setup "v$1: sign it" "$DRVSIGN" sign "${PUB[@]}" --timestamp "$TSA/partner/rfc3161" "$cat"
}

behaviour_pki_shape() {
check "the TSA certificate has the timeStamping EKU" bash -c "
  openssl x509 -in '$PKI/partner-tsa.pem' -noout -text | grep -A1 'Extended Key Usage' | grep -v critical | grep -q 'Time Stamping'"
check "... not critical" lacks 'Extended Key Usage: critical' openssl x509 -in "$PKI/partner-tsa.pem" -noout -text
check "its CA carries an EKU list of its own" bash -c "
  openssl x509 -in '$PKI/partner-ca.pem' -noout -ext extendedKeyUsage | grep -q 'Code Signing, Time Stamping'"

}

partner_catalog() { # v
  local v=$1 cat f off
  pkg_members
  cat=$WORK/pc$v.cat
  check "v$v: a Partner Center-style catalog" $PCCAT $v "$cat" "${members[@]}"
  check "v$v: it carries Partner Center's attributes" bash -c "
    '$DRVSIGN' inspect --json '$cat' | $PY -c '
import json, sys
a = json.load(sys.stdin)[\"files\"][0][\"catalog\"][\"attributes\"]
assert a[\"Qualification Level\"] == \"1000\" and a[\"DTC\"] == \"1\" and a[\"Universal\"] == \"True\", a
assert a[\"BundleID\"].startswith(\"{5B5F\") and a[\"HWID1\"] == \"usb\\\\vid_0489&pid_e0d6\", a
assert a[\"OS\"] == \"_v100_X64_21H2,_v100_X64_22H2\" and len(a) == 9, a
'"
  check "v$v: $((v == 1 ? 4 : 8)) members (v2: with SHA-1 compat entries)" bash -c "
    '$DRVSIGN' inspect --json '$cat' | $PY -c 'import json,sys; m=json.load(sys.stdin)[\"files\"][0][\"catalog\"][\"members\"]; assert len(m)==$((v == 1 ? 4 : 8)), m'"
  check "v$v: sign it, RFC 3161 timestamp from the non-critical TSA" "$DRVSIGN" sign "${PUB[@]}" --timestamp "$TSA/partner/rfc3161" "$cat"
  check "v$v: drvsign verifies the catalog and its timestamp" ds_pc "$cat"
  check "v$v: ... reporting the TSA, a non-critical EKU and the partner root" bash -c "
    '$DRVSIGN' verify --ca '$ROOT' --json '$cat' | $PY -c '
import json, sys
s = json.load(sys.stdin)[\"files\"][0][\"signatures\"][0]
t = s[\"timestamp\"]
assert s[\"valid\"] and t[\"ok\"] and t[\"kind\"] == \"rfc3161\" and not t[\"eku_critical\"], s
assert t[\"tsa\"] == \"CN = drvsign Test Partner TSA\" and t[\"root\"] == \"CN = drvsign Test Partner Root\", t
assert s[\"chain\"][\"root\"] == \"CN = drvsign Test Partner Root\" and s[\"chain\"][\"time_source\"] == \"timestamp\", s
'"
  check "v$v: osslsigncode -ignore-crl agrees" same_verdict "$cat"
  check "v$v: the INF checks as a flat member" ds_pc --catalog "$cat" "$pkg/toastpkg.inf"
  check_output "v$v: ... reported as flat" "member .*toastpkg.inf \\(as toastpkg.inf, flat\\)" ds_pc --catalog "$cat" "$pkg/toastpkg.inf"
  check "v$v: every binary checks as a PE member" ds_pc --catalog "$cat" "$pkg"/amd64/*
  for f in "$pkg"/amd64/*; do
    check "v$v: osslsigncode -catalog accepts $(basename "$f")" oss_pc -catalog "$cat" -in "$f"
  done
  check_exit "v$v: a file that is not a member is refused" 1 ds_pc --catalog "$cat" "$pkg/toastpkg.tag"

  # one byte of the trust list flipped (inside the Submission ID): the digest, nothing else
  cp "$cat" "$WORK/t.cat"
  off=$($PY -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.index("29483015".encode("utf-16-le")))' "$cat")
  flip_byte "$WORK/t.cat" "$off"
  check_exit "v$v: a flipped byte in the trust list fails" 1 ds_pc "$WORK/t.cat"
  ds_pc "$WORK/t.cat" >"$WORK/t.txt" 2>&1
  check "v$v: ... with \"digest\"" grep -q '^drvsign: .*signature 1: .*digest' "$WORK/t.txt"
  check_exit "v$v: ... not with a timestamp or chain problem" 1 grep -Eq '^drvsign: .*signature 1: (timestamp|certificate chain)' "$WORK/t.txt"
  check_exit "v$v: ... and osslsigncode refuses it too" 1 oss_pc -in "$WORK/t.cat"
}
behaviour_catalog_v1() { partner_catalog 1; }
behaviour_catalog_v2() { partner_catalog 2; }

# the legacy protocol from the same TSA, and a BER token
behaviour_legacy_timestamp() {
pc_signed 1 || return
cp "$cat" "$WORK/legacy.cat"
check "legacy counter-signature from the non-critical TSA" "$DRVSIGN" sign "${PUB[@]}" --timestamp-legacy "$TSA/partner/legacy" "$WORK/legacy.cat"
check_output "... verifies, reported as legacy" "timestamp 20.* \\(legacy\\) by \"CN = drvsign Test Partner TSA\"\$" ds_pc "$WORK/legacy.cat"
check "... osslsigncode agrees" same_verdict "$WORK/legacy.cat"
}
behaviour_ber_token() {
pc_signed 1 || return
cp "$cat" "$WORK/ber.cat"
check "an RFC 3161 token in BER (indefinite lengths)" "$DRVSIGN" sign "${PUB[@]}" --timestamp "$TSA/partner-ber/rfc3161" "$WORK/ber.cat"
check "... is kept as BER in the signature" bash -c "
  openssl asn1parse -inform DER -in '$WORK/ber.cat' | grep -q 'l=inf'"
check "... and verifies" ds_pc "$WORK/ber.cat"
check "... osslsigncode agrees" same_verdict "$WORK/ber.cat"
}

# dual signatures with legacy counter-signatures on both, primary and nested
behaviour_dual_legacy() {
cp "$DRIVERS/toaster.sys" "$WORK/dual.sys"
setup "sign, SHA-1" "$DRVSIGN" sign --quiet "${PUB[@]}" --digest sha1 "$WORK/dual.sys" || return
setup "append SHA-256" "$DRVSIGN" sign --quiet "${PUB[@]}" --append "$WORK/dual.sys" || return
check "legacy counter-signatures on the primary and the nested signature" \
  "$DRVSIGN" timestamp --timestamp-legacy "$TSA/partner/legacy" "$WORK/dual.sys"
check "... both verify as legacy timestamps" bash -c "
  '$DRVSIGN' verify --ca '$ROOT' --json '$WORK/dual.sys' | $PY -c '
import json, sys
s = json.load(sys.stdin)[\"files\"][0][\"signatures\"]
assert len(s) == 2 and s[1][\"nested\"], s
assert all(x[\"valid\"] and x[\"timestamp\"][\"kind\"] == \"legacy\" and x[\"timestamp\"][\"ok\"] for x in s), s
'"
check "... osslsigncode agrees" same_verdict "$WORK/dual.sys"
}

# a token that carries an attribute certificate, as Microsoft's TSA sends (PKCS#7 cannot hold one)
behaviour_attribute_certificate() {
cp "$DRIVERS/toaster.sys" "$WORK/attr.sys"
check "a reply whose token holds an attribute certificate is accepted when signing" \
  "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSA/attr-cert/rfc3161" --timestamp-retries 1 "$WORK/attr.sys"
check "... the token is kept as sent, attribute certificate included" bash -c "
  osslsigncode extract-signature -in '$WORK/attr.sys' -out '$WORK/attr.p7' >/dev/null &&
  openssl asn1parse -inform DER -in '$WORK/attr.p7' | grep -Eq 'l= +3 cons: +cont \[ 1 \]'"
check "... and drvsign verifies it" ds_verify "$WORK/attr.sys"
check "... osslsigncode agrees" osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-crl -in "$WORK/attr.sys"

}

# an expired publisher: valid with a timestamp inside its lifetime, not without
behaviour_expired_publisher() {
pc_signed 1 || return
cp "$cat" "$WORK/expired.cat"
check "the expired partner signs with a 2020 timestamp" "$DRVSIGN" sign --cert "$PKI/partner-expired-chain.pem" \
  --key "$PKI/partner-expired.key" --timestamp "$TSA/partner/2020/rfc3161" "$WORK/expired.cat"
check_output "... verifies, judged at the timestamp's time" "at 2020-06-01T12:00:..Z \\(the timestamp's time\\)" ds_pc "$WORK/expired.cat"
check "... osslsigncode agrees" same_verdict "$WORK/expired.cat"
check_exit "... judged now (--time), it fails" 1 ds_pc --time "$(date +%s)" "$WORK/expired.cat"
cp "$cat" "$WORK/expired-nots.cat"
"$DRVSIGN" sign --cert "$PKI/partner-expired-chain.pem" --key "$PKI/partner-expired.key" "$WORK/expired-nots.cat" 2>/dev/null
check_exit "without a timestamp the expired partner fails" 1 ds_pc "$WORK/expired-nots.cat"
check_error "... saying it expired" 1 "certificate chain: certificate has expired: \"drvsign Test Expired Partner\"" ds_pc "$WORK/expired-nots.cat"
check "... osslsigncode agrees" same_verdict "$WORK/expired-nots.cat"

}

# lifetime signing (EKU 1.3.6.1.4.1.311.10.3.13): the signature dies with the certificate
behaviour_lifetime_signing() {
pc_signed 1 || return
cp "$cat" "$WORK/lifetime.cat"
check "a lifetime-signing partner signs with a 2020 timestamp" "$DRVSIGN" sign --cert "$PKI/partner-lifetime-chain.pem" \
  --key "$PKI/partner-lifetime.key" --timestamp "$TSA/partner/2020/rfc3161" "$WORK/lifetime.cat"
check_exit "... fails: judged now, not at the timestamp" 1 ds_pc "$WORK/lifetime.cat"
check_error "... saying it expired, with lifetime signing" 1 "certificate chain: certificate has expired: \"drvsign Test Lifetime Partner\"" ds_pc "$WORK/lifetime.cat"
check_error "... the report names lifetime signing" 1 "EKU code signing, lifetime signing" ds_pc "$WORK/lifetime.cat"
}

# Windows' EKU rule holds for intermediates: a CA whose EKU list lacks timeStamping cannot
# issue TSA certificates. (osslsigncode follows OpenSSL's purpose check, which ignores CA EKU
# lists, and accepts this one: the one verdict where the two differ, and Windows sides with us.)
behaviour_ca_without_timestamping() {
pc_signed 1 || return
cp "$cat" "$WORK/nots.cat"
check "a TSA under a CA without timeStamping stamps" "$DRVSIGN" sign "${PUB[@]}" --timestamp "$TSA/partner-nots/rfc3161" "$WORK/nots.cat"
check_exit "... drvsign refuses the timestamp" 1 ds_pc "$WORK/nots.cat"
check_error "... naming the CA that lacks the usage" 1 \
  "timestamp: the TSA's certificate chain: \"drvsign Test Partner CA without timeStamping\" is not valid for time stamping" ds_pc "$WORK/nots.cat"
check "... where osslsigncode accepts it (OpenSSL ignores CA EKU lists)" oss_pc -in "$WORK/nots.cat"

}

# other roots: the main test root, and none
behaviour_other_roots() {
pc_signed 1 || return
check_exit "with the main test root the catalog fails" 1 ds_verify "$cat"
check_error "... naming its root" 1 "it ends at the root \"drvsign Test Partner Root\", which is not trusted|whose issuer \"drvsign Test Partner Root\" is not a trusted root" ds_verify "$cat"
check_exit "... osslsigncode refuses it too" 1 osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -ignore-crl -in "$cat"
}

run_behaviours "$@"
