#!/usr/bin/env bash
# drvsign testcert: a WDK-style test identity that osslsigncode and openssl accept.
. "$(dirname "$0")/../lib.sh"

# the identity in this behaviour's WORK: made by a check (MODE check) or as setup
identity() { # mode
  id="$WORK/identity"
  "$1" "testcert creates an identity" "$DRVSIGN" testcert --out "$id" --subject "Contoso Test Signing" --days 30
}
behaviour_identity() {
local f before
identity check
for f in root.cer root.pem signing.pfx signing.cer; do
  check "$f exists" test -s "$id/$f"
done
check "root.cer is DER" openssl x509 -inform DER -in "$id/root.cer" -noout
check "signing.cer has the code-signing EKU" bash -c "openssl x509 -inform DER -in '$id/signing.cer' -noout -text | grep -q 'Code Signing'"
check_output "signing.cer has the subject" "CN ?= ?Contoso Test Signing" openssl x509 -inform DER -in "$id/signing.cer" -noout -subject
check "the root is a CA" bash -c "openssl x509 -in '$id/root.pem' -noout -text | grep -q 'CA:TRUE'"
check "--days is honoured" $PY - "$id/signing.cer" <<'PY'
import subprocess, sys, datetime
out = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", sys.argv[1], "-noout", "-enddate"],
                     capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
end = datetime.datetime.strptime(out, "%b %d %H:%M:%S %Y %Z")
days = (end - datetime.datetime.utcnow()).days
print(days)
sys.exit(0 if 28 <= days <= 30 else 1)
PY
check "signing.pfx is private" test "$(stat -c %a "$id/signing.pfx")" = 600
check "openssl reads signing.pfx" openssl pkcs12 -in "$id/signing.pfx" -passin pass: -nokeys -noout
before=$(file_sum "$id"/* | sha256sum)
check_exit "a second testcert refuses to overwrite" 1 "$DRVSIGN" testcert --out "$id"
check "... and leaves the identity as it was" test "$before" = "$(file_sum "$id"/* | sha256sum)"

}

behaviour_sign_with_identity() {
identity setup || return
check "sign with the test identity" "$DRVSIGN" sign --pfx "$id/signing.pfx" --out "$WORK/t.sys" "$DRIVERS/toaster.sys"
check "osslsigncode verifies it against root.pem" osslsigncode verify -CAfile "$id/root.pem" -in "$WORK/t.sys"
openssl x509 -inform DER -in "$id/root.cer" -out "$WORK/root-from-cer.pem"
check "osslsigncode verifies it against root.cer" osslsigncode verify -CAfile "$WORK/root-from-cer.pem" -in "$WORK/t.sys"
check "drvsign verifies it against root.cer (DER)" "$DRVSIGN" verify --ca "$id/root.cer" "$WORK/t.sys"
check "another identity's root does not verify it" oss_rejects "$WORK/t.sys"

}

behaviour_password() {
export DRVSIGN_TC_PW=s3cret-test
check "testcert with a PFX password" "$DRVSIGN" testcert --out "$WORK/pw" --password-env DRVSIGN_TC_PW
check "openssl reads it with that password" openssl pkcs12 -in "$WORK/pw/signing.pfx" -passin pass:s3cret-test -nokeys -noout
check_exit "... and not with another" 1 openssl pkcs12 -in "$WORK/pw/signing.pfx" -passin pass:wrong -nokeys -noout
check_error "signing with it needs the password" 1 "signing.pfx: .*password" "$DRVSIGN" sign --pfx "$WORK/pw/signing.pfx" "$DRIVERS/toaster.sys"
check "... and works with it" "$DRVSIGN" sign --pfx "$WORK/pw/signing.pfx" --password-env DRVSIGN_TC_PW --out "$WORK/pw.sys" "$DRIVERS/toaster.sys"
check "... giving a file osslsigncode verifies against the identity's root" osslsigncode verify -CAfile "$WORK/pw/root.pem" -in "$WORK/pw.sys"
}
behaviour_usage_and_unwritable() {
check_exit "testcert without --out is a usage error" 2 "$DRVSIGN" testcert
check_exit "testcert into an unwritable place fails" 1 "$DRVSIGN" testcert --out /proc/drvsign-cannot-be-here
}

run_behaviours "$@"
