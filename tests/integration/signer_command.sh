#!/usr/bin/env bash
# The external-signer key backend (--signer-command): openssl pkeyutl over the test PKI's RSA
# and ECDSA P-256 keys signs PE, CAT and CAB files with RFC 3161 timestamps and nested
# signatures, checked by osslsigncode; what the command is handed; ECDSA as DER and as raw
# r||s; the contrib wrappers for Azure Key Vault, AWS KMS and Google Cloud KMS against
# stand-ins for their CLIs; and every way a signer can fail, each one line, exit 1, the input
# unchanged and nothing left behind.
. "$(dirname "$0")/../lib.sh"
: "${TSA_STATE:?}" "${TOASTPKG:?}"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=$REPO/tests/tools
read -r port _ <"$TSA_STATE/port"
TSA=(--timestamp "http://127.0.0.1:$port/rfc3161" --timestamp-wait 0 --timestamp-timeout 5)
# the README's commands, exactly: the key path quoted for the splitter
RSA=(--cert "$PKI/leaf-chain.pem" --signer-command "openssl pkeyutl -sign -inkey '$PKI/leaf.key' -pkeyopt digest:sha256")
EC=(--cert "$PKI/leaf-ec-chain.pem" --signer-command "openssl pkeyutl -sign -inkey '$PKI/leaf-ec.key' -pkeyopt digest:sha256")

# the package, its catalog and a cabinet of it, in this behaviour's WORK
sc_pkg() {
  [ -e "$WORK/pkg.cab" ] && return 0
  cp -r "$TOASTPKG" "$WORK/pkg"
  setup "catalog the package" "$DRVSIGN" catalog --quiet --driver "$WORK/pkg" --os 10_X64 || return
  setup "a cabinet of the package" "$DRVSIGN" cab --quiet --out "$WORK/pkg.cab" "$WORK/pkg"
}
formats() { # RSA|EC
  local kind=$1 f out
  local -n opts=$kind
  sc_pkg || return
  for f in "$DRIVERS/toaster.sys" "$WORK/pkg/tstamd64.cat" "$WORK/pkg.cab"; do
    out="$WORK/$kind-$(basename "$f")"
    check "$kind: openssl pkeyutl signs and the TSA stamps $(basename "$f")" "$DRVSIGN" sign "${opts[@]}" "${TSA[@]}" --out "$out" "$f"
    check "$kind: osslsigncode verifies $(basename "$f") and its timestamp" oss_verify_ts "$out"
    check "$kind: drvsign verify agrees" ds_verify "$out"
  done
}
behaviour_formats_rsa() { formats RSA; }
behaviour_formats_ec() { formats EC; }
behaviour_ecdsa_algorithm() {
setup "EC: openssl pkeyutl signs toaster.sys" "$DRVSIGN" sign "${EC[@]}" "${TSA[@]}" --out "$WORK/EC-toaster.sys" "$DRIVERS/toaster.sys" || return
check_output "EC: the signature is ECDSA (osslsigncode names the algorithm)" "ecdsa|ECDSA|id-ecPublicKey|prime256v1" \
  bash -c "osslsigncode extract-signature -in '$WORK/EC-toaster.sys' -out '$WORK/ec.p7' >/dev/null && openssl pkcs7 -inform DER -in '$WORK/ec.p7' -print -noout"

}

# nested signatures: SHA-1 first, then SHA-256 appended, both from the command
behaviour_nested() {
check "nested: --digest sha1 through the contrib wrapper" "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" --digest sha1 \
  --signer-command "'$REPO/contrib/signers/openssl-pkeyutl.sh' '$PKI/leaf.key'" --out "$WORK/dual.sys" "$DRIVERS/toaster.sys"
check "nested: --append --digest sha256 with the EC key and a timestamp" "$DRVSIGN" sign "${EC[@]}" --append "${TSA[@]}" "$WORK/dual.sys"
check_output "nested: osslsigncode verifies both signatures" "Number of verified signatures: 2" \
  osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -in "$WORK/dual.sys"

}

# what the command gets, and ECDSA as raw r||s
behaviour_command_environment() {
sc_pkg || return
check "the digest on stdin matches DRVSIGN_DIGEST_HEX/BASE64, the algorithm, key type, file and signed attributes" \
  "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" --signer-command "'$TOOLS/env-checking-signer.sh' '$PKI/leaf.key' sha256 RSA toaster.sys" \
  --out "$WORK/env.sys" "$DRIVERS/toaster.sys"
check "... and with --digest sha1 and an EC key" \
  "$DRVSIGN" sign --cert "$PKI/leaf-ec-chain.pem" --digest sha1 --signer-command "'$TOOLS/env-checking-signer.sh' '$PKI/leaf-ec.key' sha1 EC tstamd64.cat" \
  --out "$WORK/env.cat" "$WORK/pkg/tstamd64.cat"
check "... both verify (osslsigncode)" bash -c "osslsigncode verify -CAfile '$PKI/root.pem' -in '$WORK/env.sys' && osslsigncode verify -CAfile '$PKI/root.pem' -in '$WORK/env.cat'"
}
behaviour_ecdsa_raw() {
sc_pkg || return
check "ECDSA raw r||s is accepted and re-encoded as DER" "$DRVSIGN" sign --cert "$PKI/leaf-ec-chain.pem" \
  --signer-command "$TOOLS/ecdsa-raw-signer.sh '$PKI/leaf-ec.key' 32" --out "$WORK/raw.cab" "$WORK/pkg.cab"
check "... osslsigncode verifies it" oss_verify "$WORK/raw.cab"
check "ECDSA P-384 raw r||s (48-byte halves) too" "$DRVSIGN" sign --cert "$PKI/leaf-ec384-chain.pem" \
  --signer-command "$TOOLS/ecdsa-raw-signer.sh '$PKI/leaf-ec384.key' 48" --out "$WORK/raw384.sys" "$DRIVERS/toaster.sys"
check "... osslsigncode verifies it" oss_verify "$WORK/raw384.sys"
}
behaviour_encrypted_key_password() {
check "an encrypted key's password reaches openssl through its environment, not a command line" bash -c "
  export SIGN_PW=\$(cat '$PKI/password.txt')
  '$DRVSIGN' sign --cert '$PKI/leaf-chain.pem' --signer-command \"openssl pkeyutl -sign -inkey '$PKI/leaf-encrypted.key' -passin env:SIGN_PW -pkeyopt digest:sha256\" \
    --out '$WORK/pw.sys' '$DRIVERS/toaster.sys' >'$WORK/pw.log' 2>&1"
check "... osslsigncode verifies it" oss_verify "$WORK/pw.sys"
check_exit "... and drvsign's output never shows the password" 1 grep -qF "$(cat "$PKI/password.txt")" "$WORK/pw.log"

}

# the cloud wrappers, against stand-ins that accept only the documented flags
CLOUD=(env PATH="$TOOLS/fake-cloud:$PATH")
behaviour_cloud_wrappers() {
sc_pkg || return
check "Azure Key Vault wrapper (RSA, RS256)" "${CLOUD[@]}" FAKE_CLOUD_KEY="$PKI/leaf.key" "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" \
  --signer-command "$REPO/contrib/signers/azure-keyvault.sh https://vault.example/keys/release" --out "$WORK/az.sys" "$DRIVERS/toaster.sys"
check "... osslsigncode verifies it" oss_verify "$WORK/az.sys"
check "Azure Key Vault wrapper (EC, ES256, raw r||s in base64url)" "${CLOUD[@]}" FAKE_CLOUD_KEY="$PKI/leaf-ec.key" "$DRVSIGN" sign \
  --cert "$PKI/leaf-ec-chain.pem" --signer-command "$REPO/contrib/signers/azure-keyvault.sh https://vault.example/keys/release-ec" \
  --out "$WORK/az.cab" "$WORK/pkg.cab"
check "... osslsigncode verifies it" oss_verify "$WORK/az.cab"
check "AWS KMS wrapper (--message-type DIGEST)" "${CLOUD[@]}" FAKE_CLOUD_KEY="$PKI/leaf.key" "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" \
  --signer-command "$REPO/contrib/signers/aws-kms.sh alias/release" --out "$WORK/aws.cat" "$WORK/pkg/tstamd64.cat"
check "... osslsigncode verifies it" oss_verify "$WORK/aws.cat"
check "Google Cloud KMS wrapper (asymmetric-sign over the signed attributes)" "${CLOUD[@]}" FAKE_CLOUD_KEY="$PKI/leaf-ec.key" "$DRVSIGN" sign \
  --cert "$PKI/leaf-ec-chain.pem" --out "$WORK/gcloud.sys" \
  --signer-command "$REPO/contrib/signers/gcloud-kms.sh --location europe-west1 --keyring release --key driver --version 1" "$DRIVERS/toaster.sys"
check "... osslsigncode verifies it" oss_verify "$WORK/gcloud.sys"
check_exit "the AWS wrapper refuses SHA-1 (KMS has none)" 1 "${CLOUD[@]}" FAKE_CLOUD_KEY="$PKI/leaf.key" "$DRVSIGN" sign --digest sha1 \
  --cert "$PKI/leaf-chain.pem" --signer-command "$REPO/contrib/signers/aws-kms.sh alias/release" --out "$WORK/aws1.sys" "$DRIVERS/toaster.sys"

}

# every failure: its own line, exit 1, the input unchanged, no temp file
bad() { # name regex signer-command [extra options]
  local name=$1 re=$2 cmd=$3 dir="$WORK/bad-$1"
  shift 3
  mkdir -p "$dir"
  cp "$DRIVERS/toaster.sys" "$dir/toaster.sys"
  local before
  before=$(file_sum "$dir/toaster.sys")
  check_exit "$name: exits 1" 1 "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" --signer-command "$cmd" "$@" "$dir/toaster.sys"
  cp "$WORK/.log" "$dir.log"
  check "$name: says $re" grep -Eq -- "$re" "$dir.log"
  check "$name: one drvsign error line" test "$(grep -c '^drvsign: ' "$dir.log")" -eq 1
  check "$name: the input is unchanged" test "$before" = "$(file_sum "$dir/toaster.sys")"
  check "$name: no temp file is left" test "$(ls -A "$dir")" = toaster.sys
}
behaviour_other_key() {
bad other-key "public key does not verify" "openssl pkeyutl -sign -inkey '$PKI/other-leaf.key' -pkeyopt digest:sha256"
}
behaviour_truncated_signature() {
bad truncated "returned 100 bytes, but an RSA-2048 signature is 256 bytes" \
  "sh -c 'openssl pkeyutl -sign -inkey \"\$0\" -pkeyopt digest:sha256 | head -c 100' '$PKI/leaf.key'"
}
behaviour_no_signature() {
bad nothing "returned no signature" "true"
}
behaviour_exit_status() {
bad exit-1 "failed \\(exit status 1\\)" "sh -c 'echo signer-said-no >&2; exit 1'"
check "exit-1: the command's own stderr is shown" grep -q signer-said-no "$WORK/bad-exit-1.log"
}
behaviour_hangs() {
bad hangs "did not finish within 2 s" "sh -c 'sleep 617 & wait'" --signer-timeout 2
sleep 0.5
check "hangs: nothing it started is still running" lacks '^sleep 617' ps -eo args
}
# drvsign stopped by a signal while the signer runs: the signer's process group goes first
behaviour_signal_during_signer() {
local ds rc
mkdir -p "$WORK/term"
cp "$DRIVERS/toaster.sys" "$WORK/term/"
"$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" --signer-command "sh -c 'sleep 618 & wait'" "$WORK/term/toaster.sys" 2>/dev/null &
ds=$!
sleep 1
kill -TERM $ds
wait $ds
rc=$?
check "SIGTERM during the signer: drvsign ends by that signal (exit 143)" test $rc -eq 143
sleep 0.3
check "... and nothing the signer started is still running" lacks '^sleep 618' ps -eo args
check "... and the input is unchanged" cmp "$WORK/term/toaster.sys" "$DRIVERS/toaster.sys"
check "... and no temp file is left" test "$(ls -A "$WORK/term")" = toaster.sys
}
behaviour_garbage() {
bad garbage "neither|public key does not verify|returned [0-9]+ bytes" "head -c 256 /dev/urandom"
}
behaviour_missing_command() {
bad missing "cannot run 'drvsign-no-such-signer': No such file or directory" "drvsign-no-such-signer --key x"
}
behaviour_unquoted_pipe() {
bad unquoted-pipe "no shell runs the command" "openssl pkeyutl -sign | base64 -d"
}
behaviour_open_quote() {
bad open-quote "a single quote is not closed" "openssl 'pkeyutl"
}
behaviour_usage_errors() {
mkdir -p "$WORK/bad-nothing"
cp "$DRIVERS/toaster.sys" "$WORK/bad-nothing/toaster.sys"
check_exit "--signer-command with --key is a usage error" 2 "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" \
  --signer-command true "$WORK/bad-nothing/toaster.sys"
check_error "--signer-command without --cert is a usage error" 2 "--signer-command needs --cert" "$DRVSIGN" sign --signer-command true "$WORK/bad-nothing/toaster.sys"
}

run_behaviours "$@"
