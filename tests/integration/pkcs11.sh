#!/usr/bin/env bash
# Keys on a token: a SoftHSM2 token (a CTest fixture) through OpenSSL 3's pkcs11 provider and
# through libp11's engine, checked with osslsigncode; the token errors; the CMake module signing
# at install with DRVSIGN_KEY=pkcs11:...
. "$(dirname "$0")/../lib.sh"
: "${HSM_STATE:?}" "${TOASTPKG:?}"
export SOFTHSM2_CONF="$HSM_STATE/softhsm2.conf"
MOD=$(cat "$HSM_STATE/module")
RSA="pkcs11:token=drvsign;object=leaf;type=private"
EC="pkcs11:token=drvsign;object=ec;type=private"
REPO=$(cd "$(dirname "$0")/../.." && pwd)

# Both backends are documented, so both must be here: a missing one fails the run.
have_module() { # kind paths...: one of the paths exists
  local kind=$1 m
  shift
  for m in "$@"; do [ -f "$m" ] && { echo "$kind: $m"; return 0; }; done
  echo "$kind is not installed (scripts/deps.sh test installs it)"
  return 1
}
have_provider() { have_module pkcs11-provider /usr/lib/*/ossl-modules/pkcs11.so /usr/lib/ossl-modules/pkcs11.so; }
have_engine() { have_module libp11 /usr/lib/*/engines-3/pkcs11.so /usr/lib/engines-3/pkcs11.so; }
behaviour_backends_installed() {
check "OpenSSL's pkcs11 provider (pkcs11-provider) is installed" have_provider
check "libp11's PKCS#11 engine (libengine-pkcs11-openssl) is installed" have_engine
}
# the backends the token behaviours go through: those installed (a missing one fails
# backends_installed)
backends=()
have_provider >/dev/null && backends+=(provider)
have_engine >/dev/null && backends+=(engine)
if [ -n "${DRVSIGN_SANITIZED:-}" ]; then
  # The provider dlopens modules with RTLD_DEEPBIND, which AddressSanitizer cannot run, so the
  # sanitizer build tests libp11's engine and the unsanitized build tests both.
  backends=(engine)
  export DRVSIGN_PKCS11_BACKEND=engine
  # libp11 leaks its method tables after a failed login; tests/lsan.supp suppresses them by
  # function, which needs full stacks. Set here, whoever runs the test and whatever else is set.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
  export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$REPO/tests/lsan.supp"
fi
# the package, its catalog and a cabinet of it, in this behaviour's WORK
tok_pkg() {
  cp -r "$TOASTPKG" "$WORK/pkg"
  setup "catalog the package" "$DRVSIGN" catalog --quiet --driver "$WORK/pkg" --os 10_X64 || return
  setup "a cabinet of the package" "$DRVSIGN" cab --quiet --out "$WORK/pkg.cab" "$WORK/pkg"
}
tok() { "$DRVSIGN" sign --pkcs11-module "$MOD" --pin-file "$HSM_STATE/pin" "$@"; }

behaviour_token_signing() {
local be
tok_pkg || return
for be in "${backends[@]}"; do
  export DRVSIGN_PKCS11_BACKEND=$be
  check "$be: sign a PE with the token's RSA key" tok --key "$RSA" --cert "$PKI/leaf-chain.pem" --out "$WORK/$be.sys" "$DRIVERS/toaster.sys"
  check "$be: osslsigncode verifies it" oss_verify "$WORK/$be.sys"
  check "$be: sign a catalog with it" tok --key "$RSA" --cert "$PKI/leaf-chain.pem" --out "$WORK/$be.cat" "$WORK/pkg/tstamd64.cat"
  check "$be: osslsigncode verifies the catalog" oss_verify "$WORK/$be.cat"
  check "$be: sign a cabinet with it" tok --key "$RSA" --cert "$PKI/leaf-chain.pem" --out "$WORK/$be.cab" "$WORK/pkg.cab"
  check "$be: osslsigncode verifies the cabinet" oss_verify "$WORK/$be.cab"
  check "$be: sign with the token's ECDSA P-256 key" tok --key "$EC" --cert "$PKI/leaf-ec-chain.pem" --out "$WORK/$be-ec.sys" "$DRIVERS/toaster.sys"
  check "$be: osslsigncode verifies the ECDSA signature" oss_verify "$WORK/$be-ec.sys"
  check "$be: sign with the token's ECDSA P-384 key" tok --key "pkcs11:token=drvsign;object=ec384;type=private" \
    --cert "$PKI/leaf-ec384-chain.pem" --out "$WORK/$be-ec384.sys" "$DRIVERS/toaster.sys"
  check "$be: osslsigncode verifies the P-384 signature" oss_verify "$WORK/$be-ec384.sys"
  check "$be: the certificate from the token too" tok --key "$RSA" --cert "pkcs11:token=drvsign;object=leaf;type=cert" \
    --add-cert "$PKI/intermediate.pem" --out "$WORK/$be-tc.sys" "$DRIVERS/toaster.sys"
  check "$be: osslsigncode verifies it" oss_verify "$WORK/$be-tc.sys"
  check "$be: --pin-env works as well" env PIN=1234 "$DRVSIGN" sign --pkcs11-module "$MOD" --pin-env PIN --key "$RSA" \
    --cert "$PKI/leaf-chain.pem" --out "$WORK/$be-env.sys" "$DRIVERS/toaster.sys"
done
}
behaviour_token_errors() {
local be before rc
for be in "${backends[@]}"; do
  export DRVSIGN_PKCS11_BACKEND=$be
  # errors, each clear, the input untouched
  cp "$DRIVERS/toaster.sys" "$WORK/keep.sys"
  before=$(file_sum "$WORK/keep.sys")
  "$DRVSIGN" sign --pkcs11-module "$MOD" --pin-file "$HSM_STATE/badpin" --key "$RSA" --cert "$PKI/leaf-chain.pem" \
    "$WORK/keep.sys" >"$WORK/out" 2>&1
  rc=$?
  check "$be: a wrong PIN exits 1" test $rc -eq 1
  check "$be: ... saying the token refused the PIN" grep -q "the token refused the PIN" "$WORK/out"
  check_exit "$be: ... without printing the PIN" 1 grep -q 9999 "$WORK/out"
  check "$be: ... and leaves the file untouched" test "$before" = "$(file_sum "$WORK/keep.sys")"
  check_error "$be: a missing object" 1 "object=nope.*no private key matches this URI" \
    tok --key "pkcs11:token=drvsign;object=nope;type=private" --cert "$PKI/leaf-chain.pem" "$WORK/keep.sys"
  check_error "$be: a token that is not present" 1 "token=absent.*no private key matches this URI on the token \\(is the token present" \
    tok --key "pkcs11:token=absent;object=leaf;type=private" --cert "$PKI/leaf-chain.pem" "$WORK/keep.sys"
  check_error "$be: a certificate that does not match the key" 1 "no certificate in this file matches the private key" \
    tok --key "$RSA" --cert "$PKI/other-leaf.pem" "$WORK/keep.sys"
  check "$be: after all that, the file is untouched" test "$before" = "$(file_sum "$WORK/keep.sys")"
done
}
behaviour_module_and_pin_usage() {
cp "$DRIVERS/toaster.sys" "$WORK/keep.sys"
check_error "a missing module" 1 "nonexistent.so: cannot load the PKCS#11 module: no such file" \
  "$DRVSIGN" sign --pkcs11-module /nonexistent.so --pin-file "$HSM_STATE/pin" --key "$RSA" --cert "$PKI/leaf-chain.pem" "$WORK/keep.sys"
check_exit "a PIN on the command line is refused" 2 "$DRVSIGN" sign --pin 1234 --key "$RSA" --cert "$PKI/leaf-chain.pem" "$WORK/keep.sys"
}
behaviour_p11kit_proxy() {
check "p11-kit knows SoftHSM2 (softhsm2-common)" test -f /usr/share/p11-kit/modules/softhsm2.module
check "without --pkcs11-module the p11-kit proxy finds the token" "$DRVSIGN" sign --pin-file "$HSM_STATE/pin" \
  --key "$RSA" --cert "$PKI/leaf-chain.pem" --out "$WORK/p11kit.sys" "$DRIVERS/toaster.sys"
check "... osslsigncode verifies it" oss_verify "$WORK/p11kit.sys"
}
# the README's signer command for a token: openssl pkeyutl through libp11's engine (the p11-kit
# proxy), the PIN from a file; drvsign itself never opens the token
behaviour_signer_command_on_token() {
tok_pkg || return
check "a signer command: openssl pkeyutl on the token, PIN from a file" "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" \
  --signer-command "openssl pkeyutl -sign -engine pkcs11 -keyform engine -inkey '$RSA' -passin 'file:$HSM_STATE/pin' -pkeyopt digest:sha256" \
  --out "$WORK/p11cmd.cab" "$WORK/pkg.cab"
check "... osslsigncode verifies it" oss_verify "$WORK/p11cmd.cab"

}

# the CMake module: build test-signed, release-sign at install with the token
behaviour_cmake_install() {
local src="$WORK/example" b="$WORK/build"
cp -r "$REPO/example-project" "$src"
check "configure and build the example (test signing)" bash -c "
  cmake -S '$src' -B '$b' -DDrvSign_DIR='$REPO/cmake' -DDRVSIGN_EXECUTABLE='$DRVSIGN' >/dev/null && cmake --build '$b' >/dev/null"
check "install with DRVSIGN_KEY=pkcs11:... release-signs with the token" env DRVSIGN_CERT="$PKI/leaf-chain.pem" \
  DRVSIGN_KEY="$RSA" DRVSIGN_PKCS11_MODULE="$MOD" DRVSIGN_PASSWORD_FILE="$HSM_STATE/pin" \
  cmake --install "$b" --prefix "$WORK/inst"
check "... the installed package verifies against the PKI root" "$DRVSIGN" verify --package "$WORK/inst/drivers/toastpkg" --ca "$PKI/root.pem"
check "... osslsigncode: the embedded signature is the token's" oss_verify "$WORK/inst/drivers/toastpkg/amd64/toaster.sys"
check "... and the installed cabinet" oss_verify "$WORK/inst/drivers/toastpkg.cab"
check_error "install with a wrong PIN fails" 1 "refused the PIN|release-signing the installed package failed" \
  env DRVSIGN_CERT="$PKI/leaf-chain.pem" DRVSIGN_KEY="$RSA" DRVSIGN_PKCS11_MODULE="$MOD" \
  DRVSIGN_PASSWORD_FILE="$HSM_STATE/badpin" cmake --install "$b" --prefix "$WORK/inst2"
}

run_behaviours "$@"
