#!/usr/bin/env bash
# The CMake module with keys elsewhere: SIGNATURES (stored signatures make a rebuild from a
# clean tree byte-identical with no key present; a changed driver without a key fails, with a
# key is re-signed and stored again), DRVSIGN_SIGNER_COMMAND as a cache list at build time and
# as an environment string at install time; checked by osslsigncode and cmp.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CFG=(-G Ninja -DDrvSign_DIR="$REPO/cmake" -DDRVSIGN_EXECUTABLE="$DRVSIGN" -DDRVSIGN_CA="$PKI/root.pem")
export SOURCE_DATE_EPOCH=1767225600
# no credentials from the caller's environment
unset DRVSIGN_PFX DRVSIGN_CERT DRVSIGN_KEY DRVSIGN_PASSWORD DRVSIGN_PASSWORD_FILE DRVSIGN_SIGNER_COMMAND
KEYS=(env DRVSIGN_PFX="$PKI/leaf.pfx" DRVSIGN_PASSWORD_FILE="$PKI/password.txt")

# stored signatures: a first build with the key, a rebuild without, a changed driver (one
# behaviour: each build starts from what the one before stored)
behaviour_stored_signatures() {
local src="$WORK/src1" outputs f p1 p2
cp -r "$REPO/example-project" "$src"
sed -i 's/SUBMISSION_CAB)/SUBMISSION_CAB SIGN_MODE production SIGNATURES signatures)/' "$src/CMakeLists.txt"
check "the variant uses SIGNATURES" grep -q 'SIGNATURES signatures' "$src/CMakeLists.txt"
outputs=(toastpkg/toastpkg.inf toastpkg/toastpkg.cat toastpkg/amd64/toaster.sys toastpkg/amd64/tostrcls.dll toastpkg.cab)

# first build: the key is there; the signatures are made and stored
check "first build, with the key: configure" "${KEYS[@]}" cmake -S "$src" -B "$WORK/b1" "${CFG[@]}"
check "first build, with the key: build" "${KEYS[@]}" cmake --build "$WORK/b1"
p1="$WORK/b1/toastpkg-package"
check "the signatures are stored in the source tree" test -s "$src/signatures/amd64/toaster.sys.p7" -a -s "$src/signatures/toastpkg.cat.p7" \
  -a -s "$src/signatures/toastpkg.cab.p7"
check "... as DER PKCS#7 (openssl)" openssl pkcs7 -inform DER -in "$src/signatures/toastpkg.cab.p7" -noout
check "osslsigncode verifies the embedded driver signature" oss_verify "$p1/toastpkg/amd64/toaster.sys"
check "osslsigncode -catalog accepts the class installer" oss_verify "$p1/toastpkg/amd64/tostrcls.dll" -catalog "$p1/toastpkg/toastpkg.cat"
check "osslsigncode verifies the cabinet" oss_verify "$p1/toastpkg.cab"

# second build: a clean copy of the source tree (signatures committed), no key anywhere
cp -r "$src" "$WORK/src2"
rm -rf "$WORK/src2/build"
check "second build, no key: configure" cmake -S "$WORK/src2" -B "$WORK/b2" "${CFG[@]}"
check "second build, no key: build" cmake --build "$WORK/b2"
p2="$WORK/b2/toastpkg-package"
for f in "${outputs[@]}"; do
  check "byte-identical: $f" cmp "$p1/$f" "$p2/$f"
done
check "the stored signatures were not rewritten" diff -r "$src/signatures" "$WORK/src2/signatures"
check "osslsigncode verifies the rebuilt cabinet" oss_verify "$p2/toastpkg.cab"
check "drvsign verify --package accepts the rebuilt package" "$DRVSIGN" verify --package "$p2/toastpkg" --ca "$PKI/root.pem"

# a changed driver: without a key the build fails, saying why; with one it is re-signed
cp -r "$WORK/src2" "$WORK/src3"
sed -i 's/return STATUS_SUCCESS;/return STATUS_SUCCESS; \/* changed *\//' "$WORK/src3/toaster/toaster.c"
echo 'volatile int drvsign_test_changed = 1;' >>"$WORK/src3/toaster/toaster.c"
check "changed driver, no key: configure" cmake -S "$WORK/src3" -B "$WORK/b3" "${CFG[@]}"
check_exit "changed driver, no key: the build fails" 1 cmake --build "$WORK/b3"
cp "$WORK/.log" "$WORK/b3-nokey.log"
check "... saying credentials are needed, in the module's names" \
  grep -q "sign needs a signing identity: DRVSIGN_PFX, or DRVSIGN_CERT and DRVSIGN_KEY" "$WORK/b3-nokey.log"
check "... and that no stored signature matches" \
  grep -q "no stored signature matches amd64/toaster.sys as built now" "$WORK/b3-nokey.log"
check "changed driver, with the key: the build re-signs" "${KEYS[@]}" cmake --build "$WORK/b3"
cp "$WORK/.log" "$WORK/b3.log"
check "... after saying the stored signature no longer matches" grep -q "stored signature does not sign amd64/toaster.sys as built now" "$WORK/b3.log"
check_exit "... the new signature is stored" 1 cmp -s "$WORK/src3/signatures/amd64/toaster.sys.p7" "$src/signatures/amd64/toaster.sys.p7"
check "... and osslsigncode verifies the driver" oss_verify "$WORK/b3/toastpkg-package/toastpkg/amd64/toaster.sys"

}

behaviour_signatures_in_test_mode() {
local v="$WORK/test-mode"
cp -r "$REPO/example-project" "$v"
sed -i 's/SUBMISSION_CAB)/SUBMISSION_CAB SIGNATURES signatures)/' "$v/CMakeLists.txt"
check_error "SIGNATURES in test mode: a configure error" 1 "SIGNATURES needs SIGN_MODE production" cmake -S "$v" -B "$v/b" "${CFG[@]}"

}

# DRVSIGN_SIGNER_COMMAND: a list in the cache at build time, a string in the environment at install
behaviour_signer_command() {
local c="$WORK/cmd"
cp -r "$REPO/example-project" "$c"
sed -i 's/SUBMISSION_CAB)/SUBMISSION_CAB SIGN_MODE production)/' "$c/CMakeLists.txt"
check "production build with DRVSIGN_SIGNER_COMMAND in the cache (a list)" bash -c "
  cmake -S '$c' -B '$c/b' ${CFG[*]} -DDRVSIGN_CERT='$PKI/leaf-chain.pem' \
    '-DDRVSIGN_SIGNER_COMMAND=openssl;pkeyutl;-sign;-inkey;$PKI/leaf.key;-pkeyopt;digest:sha256' >/dev/null && cmake --build '$c/b'"
check "... osslsigncode verifies the driver, the catalog and the cabinet" bash -c "
  osslsigncode verify -CAfile '$PKI/root.pem' -in '$c/b/toastpkg-package/toastpkg/amd64/toaster.sys' >/dev/null &&
  osslsigncode verify -CAfile '$PKI/root.pem' -catalog '$c/b/toastpkg-package/toastpkg/toastpkg.cat' -in '$c/b/toastpkg-package/toastpkg/amd64/tostrcls.dll' >/dev/null &&
  osslsigncode verify -CAfile '$PKI/root.pem' -in '$c/b/toastpkg-package/toastpkg.cab' >/dev/null"
check "install with DRVSIGN_CERT and DRVSIGN_SIGNER_COMMAND (a string) in the environment release-signs" \
  env DRVSIGN_CERT="$PKI/other-leaf-chain.pem" \
  DRVSIGN_SIGNER_COMMAND="openssl pkeyutl -sign -inkey '$PKI/other-leaf.key' -pkeyopt digest:sha256" \
  cmake --install "$c/b" --prefix "$WORK/inst"
check "... osslsigncode: the installed driver is signed by the other PKI" osslsigncode verify -CAfile "$PKI/other-root.pem" \
  -in "$WORK/inst/drivers/toastpkg/amd64/toaster.sys"
check "... and the installed cabinet" osslsigncode verify -CAfile "$PKI/other-root.pem" -in "$WORK/inst/drivers/toastpkg.cab"
check_exit "install with a signer command that fails: the install fails" 1 env DRVSIGN_CERT="$PKI/other-leaf-chain.pem" \
  DRVSIGN_SIGNER_COMMAND="false" cmake --install "$c/b" --prefix "$WORK/inst2"
}

run_behaviours "$@"
