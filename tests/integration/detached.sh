#!/usr/bin/env bash
# Detached signing: sign --prepare writes the digests and requests, openssl pkeyutl signs them
# in another directory, sign --complete attaches (with RFC 3161 timestamps), osslsigncode
# verifies, for PE, CAT and CAB with RSA and ECDSA keys; a file changed since prepare, a
# missing, foreign or truncated signature and a tampered request are refused. Then extract,
# remove and attach: the round trip gives back the original bytes (nested and timestamped
# signatures included), a removed signature is gone for osslsigncode and pefile's checksum
# still holds, and a signature of another file is refused.
. "$(dirname "$0")/../lib.sh"
: "${TSA_STATE:?}" "${TOASTPKG:?}"
read -r port _ <"$TSA_STATE/port"
TSA=(--timestamp "http://127.0.0.1:$port/rfc3161" --timestamp-wait 0 --timestamp-timeout 5)
unchanged() { cmp "$1" "$2"; }
# refuse DESCRIPTION REGEX CMD...: CMD exits 1 and its output matches REGEX
refuse() {
  local d=$1 re=$2
  shift 2
  check_exit "$d: exits 1" 1 "$@"
  cp "$WORK/.log" "$WORK/last.log"
  check "$d: says $re" grep -Eq -- "$re" "$WORK/last.log"
}

cp -r "$TOASTPKG" "$WORK/pkg"
"$DRVSIGN" catalog --quiet --driver "$WORK/pkg" --os 10_X64
"$DRVSIGN" cab --quiet --out "$WORK/pkg.cab" "$WORK/pkg"

# ---- prepare / sign elsewhere / complete ----
for kind in rsa ec; do
  if [ $kind = rsa ]; then chain=$PKI/leaf-chain.pem key=$PKI/leaf.key; else chain=$PKI/leaf-ec-chain.pem key=$PKI/leaf-ec.key; fi
  in="$WORK/$kind-in" req="$WORK/$kind-requests" sigs="$WORK/$kind-signatures"
  mkdir -p "$in" "$sigs"
  cp "$DRIVERS/toaster.sys" "$WORK/pkg/tstamd64.cat" "$WORK/pkg.cab" "$in/"
  files=("$in/toaster.sys" "$in/tstamd64.cat" "$in/pkg.cab")
  sums=$(sha256sum "${files[@]}")
  check "$kind: prepare writes a digest and a request per file" bash -c "
    '$DRVSIGN' sign --prepare --cert '$chain' --out '$req' ${files[*]} &&
    for f in toaster.sys tstamd64.cat pkg.cab; do test -s '$req'/\$f.digest && grep -q '^drvsign-request=1' '$req'/\$f.request || exit 1; done"
  check "$kind: prepare leaves the files untouched" test "$sums" = "$(sha256sum "${files[@]}")"
  check "$kind: each .digest is the request's to_sign, 32 bytes of SHA-256" bash -c "
    for f in toaster.sys tstamd64.cat pkg.cab; do
      [ \$(stat -c %s '$req'/\$f.digest) -eq 32 ] &&
      [ \"\$(od -An -v -tx1 '$req'/\$f.digest | tr -d ' \n')\" = \"\$(sed -n 's/^to_sign=//p' '$req'/\$f.request)\" ] || exit 1; done"
  check "$kind: the request's to_sign is the SHA-256 of its signed attributes (openssl dgst)" bash -c "
    a=\$(sed -n 's/^signed_attributes=//p' '$req/toaster.sys.request' | $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' | openssl dgst -sha256 -r | cut -d' ' -f1)
    [ \"\$a\" = \"\$(sed -n 's/^to_sign=//p' '$req/toaster.sys.request')\" ]"
  check "$kind: the request's file_sha256 is sha256sum's" bash -c "
    [ \"\$(sed -n 's/^file_sha256=//p' '$req/pkg.cab.request')\" = \"\$(sha256sum '$in/pkg.cab' | cut -d' ' -f1)\" ]"
  # the air-gapped side: nothing but the digests and openssl
  check "$kind: openssl pkeyutl signs the digests in another directory" bash -c "
    cd '$sigs' && for f in toaster.sys tstamd64.cat pkg.cab; do
      openssl pkeyutl -sign -inkey '$key' -pkeyopt digest:sha256 -in '$req'/\$f.digest -out \$f.sig || exit 1; done"
  check "$kind: complete attaches them, with timestamps" "$DRVSIGN" sign --complete --requests "$req" --signatures "$sigs" "${TSA[@]}" "${files[@]}"
  for f in "${files[@]}"; do
    check "$kind: osslsigncode verifies $(basename "$f") and its timestamp" oss_verify_ts "$f"
  done
done

# refusals: exit 1, the file untouched
cp "$DRIVERS/toaster.sys" "$WORK/change.sys"
"$DRVSIGN" sign --prepare --cert "$PKI/leaf-chain.pem" --out "$WORK/creq" "$WORK/change.sys"
mkdir -p "$WORK/csig"
openssl pkeyutl -sign -inkey "$PKI/leaf.key" -pkeyopt digest:sha256 -in "$WORK/creq/change.sys.digest" -out "$WORK/csig/change.sys.sig"
flip_byte "$WORK/change.sys" 1000
cp "$WORK/change.sys" "$WORK/change.before"
refuse "one byte changed between prepare and complete" "the file changed since it was prepared" \
  "$DRVSIGN" sign --complete --requests "$WORK/creq" --signatures "$WORK/csig" "$WORK/change.sys"
check "... and the file is as it was" unchanged "$WORK/change.sys" "$WORK/change.before"
flip_byte "$WORK/change.sys" 1000 # back to what was prepared
check "... the same request completes once the file is back as prepared" "$DRVSIGN" sign --complete --requests "$WORK/creq" \
  --signatures "$WORK/csig" --out "$WORK/change-signed.sys" "$WORK/change.sys"
check "... and osslsigncode verifies that" oss_verify "$WORK/change-signed.sys"
cp "$WORK/change.sys" "$WORK/change.before"
refused() { # description regex sigdir [requests]
  refuse "$1" "$2" "$DRVSIGN" sign --complete --requests "${4:-$WORK/creq}" --signatures "$3" "$WORK/change.sys"
  check "$1: the file is untouched" cmp "$WORK/change.sys" "$WORK/change.before"
  check "$1: no temp left" lacks '^\.change' ls -a "$WORK"
}
mkdir -p "$WORK/nosig" "$WORK/othersig" "$WORK/shortsig"
refused "no .sig for the file" "no signature for change.sys" "$WORK/nosig"
openssl pkeyutl -sign -inkey "$PKI/other-leaf.key" -pkeyopt digest:sha256 -in "$WORK/creq/change.sys.digest" -out "$WORK/othersig/change.sys.sig"
refused "another key's signature" "public key does not verify" "$WORK/othersig"
head -c 200 "$WORK/csig/change.sys.sig" >"$WORK/shortsig/change.sys.sig"
refused "a truncated signature" "returned 200 bytes, but an RSA-2048 signature is 256 bytes" "$WORK/shortsig"
cp -r "$WORK/creq" "$WORK/tampered"
$PY - "$WORK/tampered/change.sys.request" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
for i, l in enumerate(lines):
    if l.startswith("signed_attributes="):
        k = len("signed_attributes=") + 40  # a hex digit inside the attributes
        lines[i] = l[:k] + ("1" if l[k] != "1" else "2") + l[k + 1 :]
open(p, "w").write("\n".join(lines))
PY
refused "signed attributes edited in the request" "to_sign is not the digest of its signed attributes" "$WORK/csig" "$WORK/tampered"
refuse "no request for the file" "prepare it for signing first" \
  "$DRVSIGN" sign --complete --requests "$WORK/nosig" --signatures "$WORK/csig" "$WORK/change.sys"
check_exit "--prepare with --timestamp is a usage error" 2 "$DRVSIGN" sign --prepare --cert "$PKI/leaf-chain.pem" --out "$WORK/x" "${TSA[@]}" "$WORK/change.sys"
check_exit "--prepare without --out is a usage error" 2 "$DRVSIGN" sign --prepare --cert "$PKI/leaf-chain.pem" "$WORK/change.sys"
check_exit "--complete without --signatures is a usage error" 2 "$DRVSIGN" sign --complete --requests "$WORK/creq" "$WORK/change.sys"
mkdir -p "$WORK/twin"
cp "$DRIVERS/toaster.sys" "$WORK/twin/change.sys"
check_exit "two files of one name in one prepare: usage error" 2 "$DRVSIGN" sign --prepare --cert "$PKI/leaf-chain.pem" --out "$WORK/x" \
  "$WORK/change.sys" "$WORK/twin/change.sys"

# nested, in two steps: --append is recorded and honoured
cp "$WORK/rsa-in/toaster.sys" "$WORK/nest.sys" # signed and timestamped above
"$DRVSIGN" sign --prepare --append --cert "$PKI/leaf-ec-chain.pem" --out "$WORK/nreq" "$WORK/nest.sys"
mkdir -p "$WORK/nsig"
openssl pkeyutl -sign -inkey "$PKI/leaf-ec.key" -in "$WORK/nreq/nest.sys.digest" -out "$WORK/nsig/nest.sys.sig"
check "prepare --append, then complete: a nested signature" "$DRVSIGN" sign --complete --requests "$WORK/nreq" --signatures "$WORK/nsig" "$WORK/nest.sys"
check_output "... osslsigncode verifies both" "Number of verified signatures: 2" \
  osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -in "$WORK/nest.sys"

# ---- extract / remove / attach ----
"$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/plain.cat" "$WORK/pkg/tstamd64.cat"
for f in "$WORK/nest.sys" "$WORK/rsa-in/tstamd64.cat" "$WORK/ec-in/pkg.cab" "$WORK/plain.cat"; do
  n=$(basename "$(dirname "$f")")-$(basename "$f")
  cp "$f" "$WORK/$n"
  check "$n: extract writes the signature" "$DRVSIGN" extract "$WORK/$n" --out "$WORK/$n.p7"
  check "$n: ... a DER PKCS#7 openssl reads" bash -c "openssl pkcs7 -inform DER -in '$WORK/$n.p7' -print_certs -noout >/dev/null"
  if [[ $n == *.cat ]]; then # a signed catalog is its own signature
    check "$n: ... the catalog itself, byte for byte" cmp "$WORK/$n.p7" "$f"
  else
    check "$n: ... the same SignedData osslsigncode extracts" bash -c "
      osslsigncode extract-signature -in '$WORK/$n' -out '$WORK/$n.oss.p7' >/dev/null &&
      cmp <(openssl pkcs7 -inform DER -in '$WORK/$n.p7' -outform DER) <(openssl pkcs7 -inform DER -in '$WORK/$n.oss.p7' -outform DER)"
  fi
  check "$n: remove strips it" "$DRVSIGN" remove "$WORK/$n"
  check "$n: ... osslsigncode finds no valid signature" oss_rejects "$WORK/$n"
  check_exit "$n: ... drvsign verify rejects it" 1 ds_verify "$WORK/$n"
  check "$n: attach puts it back" "$DRVSIGN" attach "$WORK/$n" --signature "$WORK/$n.p7"
  check "$n: ... byte for byte the original" unchanged "$WORK/$n" "$f"
done
check "a removed PE keeps a right checksum (pefile)" bash -c "cp '$WORK/nest.sys' '$WORK/rm.sys' && '$DRVSIGN' remove '$WORK/rm.sys' && $(declare -f pefile_checksum_ok); PY=$PY pefile_checksum_ok '$WORK/rm.sys'"
check "a removed cabinet passes cabextract -t" bash -c "cp '$WORK/ec-in/pkg.cab' '$WORK/rm.cab' && '$DRVSIGN' remove '$WORK/rm.cab' && cabextract -q -t '$WORK/rm.cab'"
check "a removed catalog is the unsigned catalog again, byte for byte" bash -c "
  cp '$WORK/plain.cat' '$WORK/rm.cat' && '$DRVSIGN' remove '$WORK/rm.cat' && cmp '$WORK/rm.cat' '$WORK/pkg/tstamd64.cat'"
# a signature of another file is refused, the target untouched
"$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/helper.dll" "$DRIVERS/helper.dll"
"$DRVSIGN" extract "$WORK/helper.dll" --out "$WORK/helper.p7"
cp "$WORK/rm.sys" "$WORK/rm.before"
refuse "attaching another PE's signature" "is not for this file" "$DRVSIGN" attach "$WORK/rm.sys" --signature "$WORK/helper.p7"
check "... the file is untouched" unchanged "$WORK/rm.sys" "$WORK/rm.before"
check_exit "attaching a PE signature to a cabinet: refused" 1 "$DRVSIGN" attach "$WORK/rm.cab" --signature "$WORK/helper.p7"
"$DRVSIGN" catalog --quiet --files "$DRIVERS/tool.exe" --out "$WORK/other.cat"
"$DRVSIGN" sign "${LEAF[@]}" "$WORK/other.cat"
"$DRVSIGN" extract "$WORK/other.cat" --out "$WORK/other.p7"
cp "$WORK/rm.cat" "$WORK/rmcat.before"
check_exit "attaching another catalog's signature: refused" 1 "$DRVSIGN" attach "$WORK/rm.cat" --signature "$WORK/other.p7"
check "... the catalog is untouched" unchanged "$WORK/rm.cat" "$WORK/rmcat.before"
cp "$WORK/helper.p7" "$WORK/broken.p7"
$PY - "$WORK/broken.p7" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# the RSA signature value is the last OCTET STRING: flip its last byte
b[-1] ^= 0xFF
open(p, "wb").write(b)
PY
cp "$DRIVERS/helper.dll" "$WORK/h2.dll"
refuse "attaching a signature whose value is damaged" "is damaged" "$DRVSIGN" attach "$WORK/h2.dll" --signature "$WORK/broken.p7"
check "... the file is untouched" unchanged "$WORK/h2.dll" "$DRIVERS/helper.dll"
check_exit "extract from an unsigned file: 1" 1 "$DRVSIGN" extract "$DRIVERS/tool.exe" --out "$WORK/none.p7"
check "... and writes nothing" test ! -e "$WORK/none.p7"
cp "$DRIVERS/tool.exe" "$WORK/tool.exe"
check_exit "remove from an unsigned file: 1" 1 "$DRVSIGN" remove "$WORK/tool.exe"
check_exit "attach without --signature is a usage error" 2 "$DRVSIGN" attach "$WORK/tool.exe"
check_exit "extract without --out is a usage error" 2 "$DRVSIGN" extract "$WORK/tool.exe"
# attach can timestamp what it attaches
"$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/late.sys" "$DRIVERS/toaster.sys"
"$DRVSIGN" extract "$WORK/late.sys" --out "$WORK/late.p7"
"$DRVSIGN" remove "$WORK/late.sys"
check "attach --timestamp stamps the stored signature" "$DRVSIGN" attach "$WORK/late.sys" --signature "$WORK/late.p7" "${TSA[@]}"
check "... osslsigncode verifies it and its timestamp" oss_verify_ts "$WORK/late.sys"
finish
