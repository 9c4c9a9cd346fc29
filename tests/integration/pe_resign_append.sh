#!/usr/bin/env bash
# Re-signing replaces the signature; --append nests one more (the SHA-1 + SHA-256 dual signature).
. "$(dirname "$0")/../lib.sh"

behaviour_replace_and_append() {
local f="$WORK/dual.sys"
cp "$DRIVERS/toaster.sys" "$f"
check "first signature (sha256)" "$DRVSIGN" sign "${LEAF[@]}" "$f"
check "re-sign with sha1 replaces it" "$DRVSIGN" sign "${LEAF[@]}" --digest sha1 "$f"
check_output "osslsigncode counts one signature" "Number of verified signatures: 1" oss_verify "$f"
check_output "drvsign reports one sha1 signature" "1 signature,.*" ds_verify "$f"
check_output "... and it is SHA1" "signature 1: valid, SHA1" ds_verify "$f"
check "--append a sha256 signature" "$DRVSIGN" sign "${LEAF[@]}" --append --digest sha256 "$f"
check_output "osslsigncode counts two signatures" "Number of verified signatures: 2" oss_verify "$f"
check_output "drvsign sees the nested sha256 signature" "signature 2 \(nested\): valid, SHA256" ds_verify "$f"
check "pefile checksum after append" pefile_checksum_ok "$f"
check "--append a third (ECDSA) signature" "$DRVSIGN" sign --cert "$PKI/leaf-ec-chain.pem" \
  --key "$PKI/leaf-ec.key" --append "$f"
check_output "osslsigncode counts three signatures" "Number of verified signatures: 3" oss_verify "$f"
check "re-sign without --append drops the nested ones" "$DRVSIGN" sign "${LEAF[@]}" "$f"
check_output "back to one signature" "Number of verified signatures: 1" oss_verify "$f"

}

behaviour_append_to_unsigned() {
local u="$WORK/unsigned-append.sys"
cp "$DRIVERS/toaster32.sys" "$u"
check "--append on an unsigned file makes the primary signature" "$DRVSIGN" sign "${LEAF[@]}" --append "$u"
check_output "one signature" "Number of verified signatures: 1" oss_verify "$u"

}

# The image digest does not cover the signature, so re-signing keeps it: compare the digests
# osslsigncode computes for both files.
signed_a() {
  a="$WORK/a.sys"
  setup "sign a.sys" "$DRVSIGN" sign "${LEAF[@]}" --out "$a" "$DRIVERS/toaster.sys"
}
digest_of() { oss_verify "$1" | awk -F': ' '/Calculated message digest/{print $2}'; }
behaviour_resign_keeps_image_digest() {
local a b="$WORK/b.sys"
signed_a || return
setup "re-sign it as b.sys" "$DRVSIGN" sign --cert "$PKI/leaf-ec-chain.pem" --key "$PKI/leaf-ec.key" --out "$b" "$a" || return
check "re-signing keeps the image digest" test "$(digest_of "$a")" = "$(digest_of "$b")" -a -n "$(digest_of "$a")"

}

# Appending to a file whose signature no longer matches is refused; the file stays as it was.
behaviour_append_to_tampered() {
local a t="$WORK/tampered.sys" text before
signed_a || return
cp "$a" "$t"
text=$(pe_field "$t" "pe.sections[0].PointerToRawData")
flip_byte "$t" $((text + 32))
before=$(file_sum "$t")
check_error "--append onto a tampered file fails, saying why" 1 "cannot append: the existing signature is invalid" \
  "$DRVSIGN" sign "${LEAF[@]}" --append "$t"
check "... and leaves the file untouched" test "$before" = "$(file_sum "$t")"
}

run_behaviours "$@"
