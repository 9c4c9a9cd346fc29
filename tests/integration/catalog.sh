#!/usr/bin/env bash
# Catalogs from the ToastPkg-style package: structure (read by an independent DER reader and
# openssl), membership (osslsigncode -catalog for PE members, sha1sum/sha256sum for flat ones),
# signing, verification, tampering, reproducibility.
. "$(dirname "$0")/../lib.sh"
: "${TOASTPKG:?set TOASTPKG to the staged test package}"
CATCHECK="$PY $(dirname "$0")/../tools/catcheck.py"
OS=XP_X86,7_X86,10_X86,7_X64,10_X64
# the package in this behaviour's WORK; catalogued: with both catalogs, unsigned (a copy of the
# amd64 one in first.cat); signed: both signed
pkg_copy() {
  pkg="$WORK/pkg"
  [ -e "$pkg" ] || cp -r "$TOASTPKG" "$pkg"
}
catalogued() {
  pkg_copy
  [ -e "$WORK/first.cat" ] && return 0
  setup "catalog --driver" "$DRVSIGN" catalog --quiet --driver "$pkg" --os "$OS" --time 1700000000 || return
  cp "$pkg/tstamd64.cat" "$WORK/first.cat"
}
signed() {
  catalogued || return
  setup "sign both catalogs" "$DRVSIGN" sign "${LEAF[@]}" "$pkg/tostx86.cat" "$pkg/tstamd64.cat"
}

behaviour_driver_catalogs() {
pkg_copy
check "catalog --driver writes both catalogs" "$DRVSIGN" catalog --driver "$pkg" --os "$OS" --time 1700000000
check "tostx86.cat exists (CatalogFile.NTx86)" test -s "$pkg/tostx86.cat"
check "tstamd64.cat exists (CatalogFile.NTamd64)" test -s "$pkg/tstamd64.cat"
check "x86 catalog: every member right (independent DER reader, pefile)" \
  $CATCHECK check "$pkg/tostx86.cat" "$pkg/toastpkg.inf" "$pkg"/i386/*
check "amd64 catalog: every member right, OS attribute and OSAttr of both targets" \
  $CATCHECK check "$pkg/tstamd64.cat" --os 7X64,_v100_X64 --osattr 2:6.1,2:10.0 "$pkg/toastpkg.inf" "$pkg"/amd64/*
check "the flat INF member is sha1sum of the INF" bash -c "
  $CATCHECK dump '$pkg/tstamd64.cat' | grep -qi \"\\\"\$(sha1sum '$pkg/toastpkg.inf' | cut -c1-40)\\\"\""
check_output "catalog attributes: OS tokens" '"OS": "7X64,_v100_X64"' $CATCHECK dump "$pkg/tstamd64.cat"
check_output "catalog attributes: HWIDs from the amd64 models" 'HWID2.*mstoastercompat' $CATCHECK dump "$pkg/tstamd64.cat"
check_output "catalog attributes: the x86 models have one HWID" '"HWID1": ".*mstoaster"' $CATCHECK dump "$pkg/tostx86.cat"
check "x86 catalog has no HWID2" lacks HWID2 $CATCHECK dump "$pkg/tostx86.cat"

}

# openssl's view of the structure (reference section 2)
behaviour_openssl_structure() {
catalogued || return
openssl asn1parse -inform DER -in "$pkg/tstamd64.cat" >"$WORK/asn1.txt" 2>&1
check "openssl: SignedData around a CTL" bash -c "grep -q 'pkcs7-signedData' '$WORK/asn1.txt' && grep -q ':1.3.6.1.4.1.311.10.1\$' '$WORK/asn1.txt'"
check "openssl: catalog list usage and v1 member algorithm" bash -c "grep -q ':1.3.6.1.4.1.311.12.1.1\$' '$WORK/asn1.txt' && grep -q ':1.3.6.1.4.1.311.12.1.2\$' '$WORK/asn1.txt'"
check "openssl: four 82-byte UTF-16 hex tags" test "$(grep -c 'l=  82 prim: OCTET STRING' "$WORK/asn1.txt")" -eq 4
check "openssl: File and OSAttr with flags 0x10010001 on every member" test "$(grep -c ':10010001$' "$WORK/asn1.txt")" -eq 8
check "openssl: MEMBERINFO (cert version 512) on every member" test "$(grep -c 'INTEGER *:0200$' "$WORK/asn1.txt")" -eq 4
check "openssl: three PE members, one flat" bash -c "[ \$(grep -c ':1.3.6.1.4.1.311.2.1.15\$' '$WORK/asn1.txt') -eq 3 ] && [ \$(grep -c ':1.3.6.1.4.1.311.2.1.25\$' '$WORK/asn1.txt') -eq 1 ]"
check "openssl: unsigned catalog has empty digestAlgorithms and signerInfos" bash -c "
  head -c 64 '$pkg/tostx86.cat' | od -An -tx1 | tr -d ' \n' | grep -q '020101310030'"
check_output "openssl: ctlThisUpdate from --time" "UTCTIME *:231114221320Z" cat "$WORK/asn1.txt"

}

# reproducible: the same inputs and time give the same bytes
behaviour_reproducible() {
catalogued || return
check "a second run with the same --time" "$DRVSIGN" catalog --quiet --driver "$pkg" --os "$OS" --time 1700000000
check "... is byte-identical" cmp "$WORK/first.cat" "$pkg/tstamd64.cat"
check "with SOURCE_DATE_EPOCH instead" env SOURCE_DATE_EPOCH=1700000000 "$DRVSIGN" catalog --quiet --driver "$pkg" --os "$OS"
check "... the same bytes" cmp "$WORK/first.cat" "$pkg/tstamd64.cat"
check "another time" "$DRVSIGN" catalog --quiet --driver "$pkg" --os "$OS" --time 1700000999
check_exit "... gives another catalog" 1 cmp -s "$WORK/first.cat" "$pkg/tstamd64.cat"
}

# sign the catalogs; Windows needs contentType = szOID_CTL and DER-sorted certificates
behaviour_signing() {
local f
catalogued || return
check "sign both catalogs" "$DRVSIGN" sign "${LEAF[@]}" "$pkg/tostx86.cat" "$pkg/tstamd64.cat"
check "osslsigncode verifies the signed catalog" oss_verify "$pkg/tstamd64.cat"
for f in "$pkg"/amd64/*; do
  check "osslsigncode -catalog accepts amd64/$(basename "$f")" oss_verify "$f" -catalog "$pkg/tstamd64.cat"
done
for f in "$pkg"/i386/*; do
  check "osslsigncode -catalog accepts i386/$(basename "$f")" oss_verify "$f" -catalog "$pkg/tostx86.cat"
done
check "the CTL of the signed catalog" bash -c "$CATCHECK ctl '$pkg/tstamd64.cat' >'$WORK/signed.ctl' && $CATCHECK ctl '$WORK/first.cat' >'$WORK/first.ctl' && test -s '$WORK/first.ctl'"
check "... is the unsigned one's, byte for byte" cmp "$WORK/signed.ctl" "$WORK/first.ctl"
openssl asn1parse -inform DER -in "$pkg/tstamd64.cat" >"$WORK/signed.txt"
check "signed attributes: contentType is szOID_CTL" bash -c "grep -A2 ':contentType\$' '$WORK/signed.txt' | grep -q ':1.3.6.1.4.1.311.10.1\$'"
check_exit "signed attributes: no signingTime" 1 grep -q signingTime "$WORK/signed.txt"
check "openssl cms reads the catalog's certificates" bash -c "openssl pkcs7 -inform DER -in '$pkg/tstamd64.cat' -print_certs | grep -q 'drvsign Test Publisher'"
check "re-signing" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$pkg/tstamd64.cat"
check_output "... keeps one signature" '"signers": 1' $CATCHECK dump "$pkg/tstamd64.cat"
check_error "--append on a catalog is refused: catalogs cannot nest" 1 "cannot carry nested signatures" "$DRVSIGN" sign "${LEAF[@]}" --append "$pkg/tstamd64.cat"

}

# drvsign's own verification, including the INF (which osslsigncode cannot check)
behaviour_verify_package() {
signed || return
check "verify --catalog: INF and binaries are members" ds_verify --catalog "$pkg/tstamd64.cat" "$pkg/toastpkg.inf" "$pkg"/amd64/*
check "verify --package: both catalogs, every file" ds_verify --package "$pkg"
check "verify --package --os 10_X64 checks the amd64 catalog" ds_verify --package "$pkg" --os 10_X64
check "verify --package --json is valid JSON and verified" json_is 0 '
assert r["verified"] and len(r["catalogs"]) == 2, r
' ds_verify --package "$pkg" --json
check_exit "verify --catalog with an x86 binary against the amd64 catalog fails" 1 \
  ds_verify --catalog "$pkg/tstamd64.cat" "$pkg/i386/toaster.sys"
}

behaviour_verify_package_errors() {
signed || return
cp -r "$pkg" "$WORK/renamed-cat"
mv "$WORK/renamed-cat/tstamd64.cat" "$WORK/renamed-cat/other.cat"
check_error "verify --package with the catalog under another name fails, naming the catalog the INF expects" 1 \
  "toastpkg.inf: its catalog tstamd64.cat \(CatalogFile\) is missing" \
  ds_verify --package "$WORK/renamed-cat" --os 10_X64

check_error "verify --package on a missing directory: exit 1, it does not exist" 1 "nowhere: does not exist" \
  ds_verify --package "$WORK/nowhere"
cp -r "$pkg" "$WORK/badcat"
printf 'not a catalog' >"$WORK/badcat/stray.cat"
check_error "verify --package with an unreadable catalog: exit 1, naming it" 1 "stray\.cat: " \
  ds_verify --package "$WORK/badcat"

}

# embedding a signature after cataloguing keeps the member valid (reference 1.2)
behaviour_embedded_member() {
signed || return
check "embed-sign amd64/toaster.sys" "$DRVSIGN" sign "${LEAF[@]}" "$pkg/amd64/toaster.sys"
check "osslsigncode -catalog still accepts it" oss_verify "$pkg/amd64/toaster.sys" -catalog "$pkg/tstamd64.cat"
check "verify --package still passes" ds_verify --package "$pkg"

}

# one changed byte in the INF or in a binary breaks it
behaviour_tampering() {
local text
signed || return
cp -r "$pkg" "$WORK/tampered-inf"
printf '\n' >>"$WORK/tampered-inf/toastpkg.inf"
check_error "a changed INF: verify --package fails, naming the INF" 1 "toastpkg.inf: is not in .*tstamd64.cat" ds_verify --package "$WORK/tampered-inf" --os 10_X64
cp -r "$pkg" "$WORK/tampered-bin"
text=$(pe_field "$WORK/tampered-bin/amd64/tostrcls.dll" "pe.sections[0].PointerToRawData")
flip_byte "$WORK/tampered-bin/amd64/tostrcls.dll" $((text + 8))
check_exit "a changed binary: verify --catalog fails" 1 ds_verify --catalog "$WORK/tampered-bin/tstamd64.cat" "$WORK/tampered-bin/amd64/tostrcls.dll"
check "a changed binary: osslsigncode -catalog fails too" oss_rejects "$WORK/tampered-bin/amd64/tostrcls.dll" -catalog "$WORK/tampered-bin/tstamd64.cat"
check_exit "a changed binary: verify --package fails" 1 ds_verify --package "$WORK/tampered-bin" --os 10_X64
flip_byte "$WORK/tampered-bin/tstamd64.cat" 200
check_exit "a changed catalog byte: its signature fails" 1 ds_verify "$WORK/tampered-bin/tstamd64.cat"
check "... and osslsigncode agrees" oss_rejects "$WORK/tampered-bin/tstamd64.cat"

}

# version 2: SHA-256 members plus SHA-1 compatibility entries
behaviour_version2() {
local v2="$WORK/v2"
cp -r "$TOASTPKG" "$v2"
check "catalog --catalog-version 2" "$DRVSIGN" catalog --quiet --driver "$v2" --os 10_X64 --catalog-version 2
check "v2 catalog: every member right (SHA-256 tags, MEMBERINFO2, SHA-1 compat entries with File and OSAttr, empty SpcLink)" \
  $CATCHECK check "$v2/tstamd64.cat" --os _v100_X64 --osattr 2:10.0 "$v2/toastpkg.inf" "$v2"/amd64/*
check "openssl: v2 member algorithm" bash -c "openssl asn1parse -inform DER -in '$v2/tstamd64.cat' | grep -q ':1.3.6.1.4.1.311.12.1.3\$'"
check "sign the v2 catalog" "$DRVSIGN" sign "${LEAF[@]}" "$v2/tstamd64.cat"
check "osslsigncode -catalog accepts a PE member of the v2 catalog" oss_verify "$v2/amd64/toaster.sys" -catalog "$v2/tstamd64.cat"
check "verify --package on the v2 catalog" ds_verify --package "$v2" --os 10_X64

}

# page hashes in the catalog (Inf2Cat /pageHashes)
behaviour_page_hashes() {
local ph="$WORK/ph"
cp -r "$TOASTPKG" "$ph"
check "catalog --page-hashes" "$DRVSIGN" catalog --quiet --driver "$ph" --os 10_X64 --page-hashes
check "openssl: page-hash V1 table in the members" bash -c "openssl asn1parse -inform DER -in '$ph/tstamd64.cat' -i | grep -q 'a6b586d5b4a12466ae05a217da8e60d6' || openssl asn1parse -inform DER -in '$ph/tstamd64.cat' | grep -qi 'A6B586D5B4A12466AE05A217DA8E60D6'"
check "page-hash catalog: members still right" $CATCHECK check "$ph/tstamd64.cat" "$ph/toastpkg.inf" "$ph"/amd64/*

}

# --no-catalog runs the checks only
behaviour_no_catalog() {
local nc="$WORK/nocat"
cp -r "$TOASTPKG" "$nc"
check_output "--no-catalog passes the signability test" "Signability test complete" "$DRVSIGN" catalog --driver "$nc" --os 10_X64 --no-catalog
check "... and writes no catalog" lacks '\.cat$' ls "$nc"

}

# makecat mode: a catalog of any files
behaviour_files() {
pkg_copy
check "catalog --files" "$DRVSIGN" catalog --quiet --files "$pkg/amd64/tostrco2.dll" "$pkg/toastpkg.inf" --os 10_X64 --out "$WORK/files.cat"
check "--files catalog: members right" $CATCHECK check "$WORK/files.cat" "$pkg/amd64/tostrco2.dll" "$pkg/toastpkg.inf"
check "sign it" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/files.cat"
check "... osslsigncode -catalog accepts a member" oss_verify "$pkg/amd64/tostrco2.dll" -catalog "$WORK/files.cat"

}

# Members are hashed in parallel, the largest first; what each file reports still comes in the
# order the files were given, and the catalog does not depend on the order either.
# broken_pe OUT MB: toaster.sys with its last section pointing past the end of the file, and
# MB MB of overlay, so that each broken file can be made larger than the one before
broken_pe() {
  $PY - "$DRIVERS/toaster.sys" "$1" "$2" <<'PY'
import sys
import pefile
pe = pefile.PE(sys.argv[1])
pe.sections[-1].PointerToRawData = 0x7FF00000
open(sys.argv[2], "wb").write(bytes(pe.write()) + bytes(int(sys.argv[3]) << 20))
PY
}
behaviour_parallel_order() {
pkg_copy
local i broken=() good=() rc
for i in $(seq -w 1 12); do
  broken_pe "$WORK/broken$i.sys" "$((10#$i))" || return
  broken+=("$WORK/broken$i.sys")
  cp "$DRIVERS/toaster.sys" "$WORK/good$i.sys"
  head -c "$((10#$i << 20))" /dev/zero >>"$WORK/good$i.sys"
  good+=("$WORK/good$i.sys")
done
printf 'broken%s.sys\n' $(seq -w 1 12) >"$WORK/expected"
"$DRVSIGN" catalog --quiet --files --os 10_X64 --out "$WORK/broken.cat" "${broken[@]}" 2>"$WORK/err"
rc=$?
cat "$WORK/err"
check "catalog of 12 broken PEs: exits 1" test "$rc" -eq 1
check "... one line for each" test "$(grep -c 'points past the end of the file' "$WORK/err")" -eq 12
grep -o 'broken[0-9]*\.sys' "$WORK/err" >"$WORK/order"
check "... in the order given, though the largest was hashed first" cmp "$WORK/order" "$WORK/expected"
check "... and no catalog" test ! -e "$WORK/broken.cat"

check "catalog of 12 PEs, smallest first" "$DRVSIGN" catalog --quiet --files --os 10_X64 --time 1700000000 --out "$WORK/up.cat" "${good[@]}"
check "... and largest first: the same bytes" bash -c '"$1" catalog --quiet --files --os 10_X64 --time 1700000000 --out "$2" $(printf "%s\n" "${@:3}" | sort -r)' \
  sh "$DRVSIGN" "$WORK/down.cat" "${good[@]}"
check "... cmp" same_bytes "$WORK/up.cat" "$WORK/down.cat"
check "... members right" $CATCHECK check "$WORK/up.cat" "${good[@]}"
check "sign it" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/up.cat"
check "verify --catalog: all 12 members" ds_verify --catalog "$WORK/up.cat" "${good[@]}"
check "... osslsigncode -catalog accepts the largest" oss_verify "$WORK/good12.sys" -catalog "$WORK/up.cat"
ds_verify --catalog "$WORK/up.cat" "${good[@]}" "${broken[@]}" >"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/err"
check "verify --catalog with the broken ones too: exits 1" test "$rc" -eq 1
grep -o 'broken[0-9]*\.sys: section' "$WORK/err" | cut -d: -f1 >"$WORK/order"
check "... their problems in the order given" cmp "$WORK/order" "$WORK/expected"
check "... the good ones are still members" test "$(grep -c '^  member   .*good[0-9]*\.sys' "$WORK/out")" -eq 12
check "... the broken ones are reported" test "$(grep -c '^  MISSING  .*broken[0-9]*\.sys' "$WORK/out")" -eq 12
}

# a catalog made by another tool (an independent writer, Partner Center's encoding choices)
MAKECAT="$PY $(dirname "$0")/../tools/makecat.py"
behaviour_foreign_catalog() {
pkg_copy
check "another tool's catalog" $MAKECAT "$WORK/foreign.cat" "$pkg/toastpkg.inf" "$pkg"/amd64/tostrcl*.dll
check "... reads back member by member" $CATCHECK check "$WORK/foreign.cat" "$pkg/toastpkg.inf" "$pkg/amd64/tostrcls.dll"
$CATCHECK ctl "$WORK/foreign.cat" >"$WORK/foreign.ctl"
check "drvsign signs it" "$DRVSIGN" sign "${LEAF[@]}" "$WORK/foreign.cat"
check "... keeping its CTL byte for byte" bash -c "$CATCHECK ctl '$WORK/foreign.cat' >'$WORK/foreign-signed.ctl' && test -s '$WORK/foreign.ctl' && cmp '$WORK/foreign.ctl' '$WORK/foreign-signed.ctl'"
check "osslsigncode verifies the signed foreign catalog" oss_verify "$WORK/foreign.cat"
check "osslsigncode -catalog accepts its PE member" oss_verify "$pkg/amd64/tostrcls.dll" -catalog "$WORK/foreign.cat"
check "drvsign verify --catalog accepts its INF member" ds_verify --catalog "$WORK/foreign.cat" "$pkg/toastpkg.inf"

}

# inspect
behaviour_inspect() {
signed || return
check_output "inspect lists the members" "toaster.sys" "$DRVSIGN" inspect "$pkg/tstamd64.cat"
check "inspect --json is valid JSON with 4 members and a signature" json_is 0 '
f = r["files"][0]
assert len(f["catalog"]["members"]) == 4 and len(f["signatures"]) == 1, f
' "$DRVSIGN" inspect --json "$pkg/tstamd64.cat"
}

run_behaviours "$@"

