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

# the package, its catalog and a cabinet of it, in this behaviour's WORK
det_pkg() {
  [ -e "$WORK/pkg.cab" ] && return 0
  cp -r "$TOASTPKG" "$WORK/pkg"
  setup "catalog the package" "$DRVSIGN" catalog --quiet --driver "$WORK/pkg" --os 10_X64 || return
  setup "a cabinet of the package" "$DRVSIGN" cab --quiet --out "$WORK/pkg.cab" "$WORK/pkg"
}

# ---- prepare / sign elsewhere / complete ----
# prepare_complete KIND MODE: the PE, catalog and cabinet signed in two steps into $WORK/KIND-in,
# each step a check (MODE check) or the setup of another behaviour (MODE setup)
prepare_complete() {
  local kind=$1 mode=$2 chain key in req sigs files sums f rc=0
  [ -e "$WORK/$kind-in" ] && return 0
  det_pkg || return
  if [ $kind = rsa ]; then chain=$PKI/leaf-chain.pem key=$PKI/leaf.key; else chain=$PKI/leaf-ec-chain.pem key=$PKI/leaf-ec.key; fi
  in="$WORK/$kind-in" req="$WORK/$kind-requests" sigs="$WORK/$kind-signatures"
  mkdir -p "$in" "$sigs"
  cp "$DRIVERS/toaster.sys" "$WORK/pkg/tstamd64.cat" "$WORK/pkg.cab" "$in/"
  files=("$in/toaster.sys" "$in/tstamd64.cat" "$in/pkg.cab")
  sums=$(file_sum "${files[@]}")
  "$mode" "$kind: prepare writes a digest and a request per file" bash -c "
    '$DRVSIGN' sign --prepare --cert '$chain' --out '$req' ${files[*]} &&
    for f in toaster.sys tstamd64.cat pkg.cab; do test -s '$req'/\$f.digest && grep -q '^drvsign-request=1' '$req'/\$f.request || exit 1; done"
  "$mode" "$kind: prepare leaves the files untouched" test "$sums" = "$(file_sum "${files[@]}")"
  "$mode" "$kind: each .digest is the request's to_sign, 32 bytes of SHA-256" bash -c "
    for f in toaster.sys tstamd64.cat pkg.cab; do
      [ \$(stat -c %s '$req'/\$f.digest) -eq 32 ] &&
      [ \"\$(od -An -v -tx1 '$req'/\$f.digest | tr -d ' \n')\" = \"\$(sed -n 's/^to_sign=//p' '$req'/\$f.request)\" ] || exit 1; done"
  "$mode" "$kind: the request's to_sign is the SHA-256 of its signed attributes (openssl dgst)" bash -c "
    a=\$(sed -n 's/^signed_attributes=//p' '$req/toaster.sys.request' | $PY -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' | openssl dgst -sha256 -r | cut -d' ' -f1)
    [ \"\$a\" = \"\$(sed -n 's/^to_sign=//p' '$req/toaster.sys.request')\" ]"
  "$mode" "$kind: the request's file_sha256 is sha256sum's" bash -c "
    [ \"\$(sed -n 's/^file_sha256=//p' '$req/pkg.cab.request')\" = \"\$(sha256sum '$in/pkg.cab' | cut -d' ' -f1)\" ]"
  # the air-gapped side: nothing but the digests and openssl
  "$mode" "$kind: openssl pkeyutl signs the digests in another directory" bash -c "
    cd '$sigs' && for f in toaster.sys tstamd64.cat pkg.cab; do
      openssl pkeyutl -sign -inkey '$key' -pkeyopt digest:sha256 -in '$req'/\$f.digest -out \$f.sig || exit 1; done"
  "$mode" "$kind: complete attaches them, with timestamps" "$DRVSIGN" sign --complete --requests "$req" --signatures "$sigs" "${TSA[@]}" "${files[@]}" || rc=1
  [ "$mode" = check ] || return $rc
  for f in "${files[@]}"; do
    check "$kind: osslsigncode verifies $(basename "$f") and its timestamp" oss_verify_ts "$f"
  done
}
behaviour_prepare_complete_rsa() { prepare_complete rsa check; }
behaviour_prepare_complete_ec() { prepare_complete ec check; }

# refusals: exit 1, the file untouched
# change.sys prepared (creq) and its digest signed (csig)
change_prepared() {
cp "$DRIVERS/toaster.sys" "$WORK/change.sys"
setup "prepare change.sys" "$DRVSIGN" sign --prepare --cert "$PKI/leaf-chain.pem" --out "$WORK/creq" "$WORK/change.sys" || return
mkdir -p "$WORK/csig"
setup "sign its digest" openssl pkeyutl -sign -inkey "$PKI/leaf.key" -pkeyopt digest:sha256 -in "$WORK/creq/change.sys.digest" -out "$WORK/csig/change.sys.sig"
}
behaviour_changed_since_prepare() {
change_prepared || return
flip_byte "$WORK/change.sys" 1000
cp "$WORK/change.sys" "$WORK/change.before"
refuse "one byte changed between prepare and complete" "the file changed since it was prepared" \
  "$DRVSIGN" sign --complete --requests "$WORK/creq" --signatures "$WORK/csig" "$WORK/change.sys"
check "... and the file is as it was" unchanged "$WORK/change.sys" "$WORK/change.before"
flip_byte "$WORK/change.sys" 1000 # back to what was prepared
check "... the same request completes once the file is back as prepared" "$DRVSIGN" sign --complete --requests "$WORK/creq" \
  --signatures "$WORK/csig" --out "$WORK/change-signed.sys" "$WORK/change.sys"
check "... and osslsigncode verifies that" oss_verify "$WORK/change-signed.sys"
}
refused() { # description regex sigdir [requests]
  refuse "$1" "$2" "$DRVSIGN" sign --complete --requests "${4:-$WORK/creq}" --signatures "$3" "$WORK/change.sys"
  check "$1: the file is untouched" cmp "$WORK/change.sys" "$WORK/change.before"
  check "$1: no temp left" lacks '^\.change' ls -a "$WORK"
}
behaviour_complete_refusals() {
change_prepared || return
cp "$WORK/change.sys" "$WORK/change.before"
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

}

# nested, in two steps: --append is recorded and honoured. nested MODE: $WORK/nest.sys, with the
# last step a check (MODE check) or setup
nested() {
[ -e "$WORK/nsig" ] && return 0
prepare_complete rsa setup || return
cp "$WORK/rsa-in/toaster.sys" "$WORK/nest.sys" # signed and timestamped
setup "prepare --append nest.sys" "$DRVSIGN" sign --prepare --append --cert "$PKI/leaf-ec-chain.pem" --out "$WORK/nreq" "$WORK/nest.sys" || return
mkdir -p "$WORK/nsig"
setup "sign its digest" openssl pkeyutl -sign -inkey "$PKI/leaf-ec.key" -in "$WORK/nreq/nest.sys.digest" -out "$WORK/nsig/nest.sys.sig" || return
"$1" "prepare --append, then complete: a nested signature" "$DRVSIGN" sign --complete --requests "$WORK/nreq" --signatures "$WORK/nsig" "$WORK/nest.sys"
}
behaviour_nested_in_two_steps() {
nested check
check_output "... osslsigncode verifies both" "Number of verified signatures: 2" \
  osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -in "$WORK/nest.sys"

}

# ---- extract / remove / attach ----
plain_cat() {
  det_pkg || return
  [ -e "$WORK/plain.cat" ] || setup "sign the catalog" "$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/plain.cat" "$WORK/pkg/tstamd64.cat"
}
round_trip() { # signed file
  local f=$1 n
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
}
behaviour_round_trip_nested_pe() { nested setup && round_trip "$WORK/nest.sys"; }
behaviour_round_trip_catalog() { prepare_complete rsa setup && round_trip "$WORK/rsa-in/tstamd64.cat"; }
behaviour_round_trip_cabinet() { prepare_complete ec setup && round_trip "$WORK/ec-in/pkg.cab"; }
behaviour_round_trip_plain_catalog() { plain_cat && round_trip "$WORK/plain.cat"; }

removed_inputs() {
  nested setup || return
  prepare_complete ec setup || return
  plain_cat
}
behaviour_removed_files() {
removed_inputs || return
check "a removed PE keeps a right checksum (pefile)" bash -c "cp '$WORK/nest.sys' '$WORK/rm.sys' && '$DRVSIGN' remove '$WORK/rm.sys' && $(declare -f pefile_checksum_ok); PY=$PY pefile_checksum_ok '$WORK/rm.sys'"
check "a removed cabinet passes cabextract -t" bash -c "cp '$WORK/ec-in/pkg.cab' '$WORK/rm.cab' && '$DRVSIGN' remove '$WORK/rm.cab' && cabextract -q -t '$WORK/rm.cab'"
check "a removed catalog is the unsigned catalog again, byte for byte" bash -c "
  cp '$WORK/plain.cat' '$WORK/rm.cat' && '$DRVSIGN' remove '$WORK/rm.cat' && cmp '$WORK/rm.cat' '$WORK/pkg/tstamd64.cat'"
}
# a signature of another file is refused, the target untouched
behaviour_foreign_signatures() {
removed_inputs || return
setup "removed copies" bash -c "cp '$WORK/nest.sys' '$WORK/rm.sys' && '$DRVSIGN' remove '$WORK/rm.sys' &&
  cp '$WORK/ec-in/pkg.cab' '$WORK/rm.cab' && '$DRVSIGN' remove '$WORK/rm.cab' &&
  cp '$WORK/plain.cat' '$WORK/rm.cat' && '$DRVSIGN' remove '$WORK/rm.cat'" || return
setup "sign helper.dll" "$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/helper.dll" "$DRIVERS/helper.dll" || return
setup "extract its signature" "$DRVSIGN" extract "$WORK/helper.dll" --out "$WORK/helper.p7" || return
cp "$WORK/rm.sys" "$WORK/rm.before"
refuse "attaching another PE's signature" "is not for this file" "$DRVSIGN" attach "$WORK/rm.sys" --signature "$WORK/helper.p7"
check "... the file is untouched" unchanged "$WORK/rm.sys" "$WORK/rm.before"
check_exit "attaching a PE signature to a cabinet: refused" 1 "$DRVSIGN" attach "$WORK/rm.cab" --signature "$WORK/helper.p7"
setup "another catalog" "$DRVSIGN" catalog --quiet --files "$DRIVERS/tool.exe" --out "$WORK/other.cat" || return
setup "signed" "$DRVSIGN" sign "${LEAF[@]}" "$WORK/other.cat" || return
setup "its signature extracted" "$DRVSIGN" extract "$WORK/other.cat" --out "$WORK/other.p7" || return
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
}
behaviour_unsigned_and_usage() {
check_exit "extract from an unsigned file: 1" 1 "$DRVSIGN" extract "$DRIVERS/tool.exe" --out "$WORK/none.p7"
check "... and writes nothing" test ! -e "$WORK/none.p7"
cp "$DRIVERS/tool.exe" "$WORK/tool.exe"
check_exit "remove from an unsigned file: 1" 1 "$DRVSIGN" remove "$WORK/tool.exe"
check_exit "attach without --signature is a usage error" 2 "$DRVSIGN" attach "$WORK/tool.exe"
check_exit "extract without --out is a usage error" 2 "$DRVSIGN" extract "$WORK/tool.exe"
}
# attach can timestamp what it attaches
behaviour_attach_timestamp() {
setup "sign late.sys" "$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/late.sys" "$DRIVERS/toaster.sys" || return
setup "extract its signature" "$DRVSIGN" extract "$WORK/late.sys" --out "$WORK/late.p7" || return
setup "remove it" "$DRVSIGN" remove "$WORK/late.sys" || return
check "attach --timestamp stamps the stored signature" "$DRVSIGN" attach "$WORK/late.sys" --signature "$WORK/late.p7" "${TSA[@]}"
check "... osslsigncode verifies it and its timestamp" oss_verify_ts "$WORK/late.sys"
}

run_behaviours "$@"
