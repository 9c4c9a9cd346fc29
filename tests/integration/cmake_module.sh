#!/usr/bin/env bash
# The CMake module on the example project: every generator, what the build produces (checked by
# osslsigncode, pefile, gcab, cabextract), incremental builds, install-time release signing,
# the early configure errors, an x86 build, and the example built with no arguments at all.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# the checks below are of the helper built in the project's own tree, so no helper cache
export DRVSIGN_HELPER_CACHE=OFF
# the copy of the example each behaviour builds, in its own WORK
example_copy() {
  src="$WORK/example"
  cp -r "$REPO/example-project" "$src"
}
# the copy finds the module through DrvSign_DIR, and uses the drvsign under test
CFG=(-DDrvSign_DIR="$REPO/cmake" -DDRVSIGN_EXECUTABLE="$DRVSIGN")

generator() { # GENERATOR: the example configured, built, checked and rebuilt with it
  local gen=$1 src tag b multi cfg sub cdir out pkg id log built lines
  example_copy
  tag=${gen// /-}
  b="$WORK/b-$tag"
  multi=0
  [ "$gen" = "Ninja Multi-Config" ] && multi=1
  cfg=() sub="" cdir="toastpkg"
  if [ $multi = 1 ]; then cfg=(--config Debug); sub="/Debug"; cdir="toastpkg/Debug"; fi
  check "$gen: configure" cmake -S "$src" -B "$b" -G "$gen" "${CFG[@]}"
  check "$gen: build" bash -c "cmake --build '$b' ${cfg[*]} >'$WORK/build-$tag.log' 2>&1"
  out="$b/toastpkg-package$sub"
  pkg="$out/toastpkg"
  id="$b/drvsign-test-identity"
  log="$b/drvsign/$cdir/steps.log"
  check "$gen: the build says where things are and verifies" bash -c "
    grep -q 'submission cabinet: $out/toastpkg.cab' '$WORK/build-$tag.log' && grep -q 'package $pkg: verified' '$WORK/build-$tag.log'"
  check "$gen: staged where SourceDisksNames.amd64 says" test -f "$pkg/amd64/toaster.sys" -a -f "$pkg/amd64/tostrcls.dll" -a -f "$pkg/toastpkg.inf"
  check "$gen: the INF was stamped (DriverVer, \$ARCH\$)" bash -c "grep -q '^DriverVer = [0-9/]*,1.2.3.4' '$pkg/toastpkg.inf' && grep -q 'Toaster_Models, NTamd64' '$pkg/toastpkg.inf'"
  check "$gen: osslsigncode -catalog accepts toaster.sys" osslsigncode verify -CAfile "$id/root.pem" -catalog "$pkg/toastpkg.cat" -in "$pkg/amd64/toaster.sys"
  check "$gen: osslsigncode -catalog accepts tostrcls.dll" osslsigncode verify -CAfile "$id/root.pem" -catalog "$pkg/toastpkg.cat" -in "$pkg/amd64/tostrcls.dll"
  check "$gen: the boot-start driver has an embedded signature osslsigncode accepts" osslsigncode verify -CAfile "$id/root.pem" -in "$pkg/amd64/toaster.sys"
  check "$gen: ... and a right PE checksum (pefile)" pefile_checksum_ok "$pkg/amd64/toaster.sys"
  check_error "$gen: the class installer is not embed-signed (not BOOT_START)" 1 "No signature found" \
    osslsigncode verify -CAfile "$id/root.pem" -in "$pkg/amd64/tostrcls.dll"
  built=$(find "$b" -name toaster.sys -not -path "*toastpkg-package*" | head -1)
  check "$gen: the linker's toaster.sys is there" test -n "$built" -a -f "$built"
  check_error "$gen: ... and not signed (staging signed a copy)" 1 "toaster.sys: the file is not signed" \
    "$DRVSIGN" verify --ca "$id/root.pem" "$built"
  check "$gen: drvsign verify --package" "$DRVSIGN" verify --package "$pkg" --ca "$id/root.pem"
  check "$gen: the cabinet lists the package folder" bash -c "
    gcab -t '$out/toastpkg.cab' | grep -qx 'toastpkg.toastpkg.inf' && gcab -t '$out/toastpkg.cab' | grep -qx 'toastpkg.amd64.toaster.sys' &&
    gcab -t '$out/toastpkg.cab' | grep -qx 'toastpkg.toastpkg.cat'"
  check "$gen: cabextract -t" cabextract -q -t "$out/toastpkg.cab"
  check "$gen: the cabinet is signed (osslsigncode)" osslsigncode verify -CAfile "$id/root.pem" -in "$out/toastpkg.cab"
  check "$gen: root.cer beside the package" bash -c "openssl x509 -inform DER -in '$out/root.cer' -noout"
  check "$gen: add_driver_package_test passes under ctest" ctest --test-dir "$b" "${cfg[@]/--config/-C}" --output-on-failure
  # incremental builds
  lines=$(wc -l <"$log")
  check_output "$gen: a second build still says where the package is" \
    "drvsign: package toastpkg: $pkg \\(submission cabinet $out/toastpkg.cab\\)" cmake --build "$b" "${cfg[@]}"
  check "$gen: ... and runs no drvsign step" test "$(wc -l <"$log")" -eq "$lines"
  sleep 1
  touch "$src/toastpkg.inx"
  check "$gen: a build after touching the INF" cmake --build "$b" "${cfg[@]}"
  check "$gen: ... re-stamps and re-catalogues" bash -c "tail -n +$((lines + 1)) '$log' | grep -q '^stamp' && tail -n +$((lines + 1)) '$log' | grep -q '^catalog' && tail -n +$((lines + 1)) '$log' | grep -q '^sign-catalog'"
  check "$gen: ... without re-signing the drivers" lacks '^stage toaster\.sys' tail -n +$((lines + 1)) "$log"
  lines=$(wc -l <"$log")
  sleep 1
  touch "$src/toaster/toaster.c"
  check "$gen: a build after touching the driver's source" cmake --build "$b" "${cfg[@]}"
  check "$gen: ... re-stages and re-signs the driver" bash -c "tail -n +$((lines + 1)) '$log' | grep -q '^stage toaster.sys'"
  check "$gen: ... and not the class installer" lacks '^stage tostrcls\.dll' tail -n +$((lines + 1)) "$log"
  check "$gen: ... and the package still verifies" "$DRVSIGN" verify --package "$pkg" --ca "$id/root.pem"
}
behaviour_unix_makefiles() { generator "Unix Makefiles"; }
behaviour_ninja_multi_config() { generator "Ninja Multi-Config"; }

# the Ninja build, then install-time release signing of it with a second ("production") PKI
# (one behaviour: the install needs the build)
behaviour_ninja_and_install() {
local b="$WORK/b-Ninja" inst
generator Ninja
check "install with DRVSIGN_PFX release-signs the installed package" env DRVSIGN_PFX="$PKI/other-leaf.pfx" \
  DRVSIGN_PASSWORD_FILE="$PKI/password.txt" cmake --install "$b" --prefix "$WORK/inst"
inst="$WORK/inst/drivers/toastpkg"
check "... it verifies against the production root" "$DRVSIGN" verify --package "$inst" --ca "$PKI/other-root.pem"
check_exit "... and not against the test root" 1 "$DRVSIGN" verify --package "$inst" --ca "$b/drvsign-test-identity/root.pem"
check "... osslsigncode: the embedded signature is the production one" osslsigncode verify -CAfile "$PKI/other-root.pem" -in "$inst/amd64/toaster.sys"
check "... osslsigncode: the catalog is production-signed" osslsigncode verify -CAfile "$PKI/other-root.pem" -catalog "$inst/toastpkg.cat" -in "$inst/amd64/tostrcls.dll"
check "... the installed cabinet too" osslsigncode verify -CAfile "$PKI/other-root.pem" -in "$WORK/inst/drivers/toastpkg.cab"
check "... the build tree's package is still test-signed" "$DRVSIGN" verify --package "$b/toastpkg-package/toastpkg" --ca "$b/drvsign-test-identity/root.pem"
check "the password file is not empty (so the next check means something)" test -s "$PKI/password.txt"
check_exit "the password never reached the build tree or the install log" 1 grep -rqF "$(cat "$PKI/password.txt")" "$b"
check_output "install without credentials keeps the test signature, and says so" "installed toastpkg as built" \
  cmake --install "$b" --prefix "$WORK/inst2"
check_error "a wrong PFX password at install fails the install" 1 "wrong password|release-signing the installed package failed" \
  env DRVSIGN_PFX="$PKI/other-leaf.pfx" DRVSIGN_PASSWORD_FILE="$PKI/leaf.key" cmake --install "$b" --prefix "$WORK/inst3"
}

# early errors, before anything is built (CMake wraps long messages: exits_flat compares them flat)
variant() { # name sed-expression
  rm -rf "$WORK/v-$1"
  cp -r "$src" "$WORK/v-$1"
  sed -i "$2" "$WORK/v-$1/CMakeLists.txt"
  echo "$WORK/v-$1"
}
behaviour_file_nothing_provides() {
local src v
example_copy
v=$(variant missing 's/TARGETS toaster tostrcls/TARGETS toaster/')
check "a file the INF copies but nothing provides: configure error" exits_flat 1 \
  "copies tostrcls.dll \\(to amd64/tostrcls.dll\\), but no TARGETS or FILES entry provides it" \
  cmake -S "$v" -B "$v/b" "${CFG[@]}"
}
behaviour_unknown_os_id() {
local src v
example_copy
v=$(variant badios 's/SUBMISSION_CAB)/SUBMISSION_CAB OS 10_X46)/')
check_error "an unknown OS id: configure error naming the closest, as OS" 1 "unknown OS id '10_X46'; did you mean .*10_X64" \
  cmake -S "$v" -B "$v/b" "${CFG[@]}"
cp "$WORK/.log" "$WORK/badios.log"
check "... never as the command line's --os" lacks "--os" cat "$WORK/badios.log"
}
behaviour_sign_mode_production() {
local src v
example_copy
v=$(variant prod 's/SUBMISSION_CAB)/SUBMISSION_CAB SIGN_MODE production)/')
check "SIGN_MODE production without credentials: configure error" exits_flat 1 "sign needs a signing identity: DRVSIGN_PFX, or DRVSIGN_CERT and DRVSIGN_KEY" \
  env -u DRVSIGN_PFX -u DRVSIGN_CERT cmake -S "$v" -B "$v/b" "${CFG[@]}"
check "SIGN_MODE production with DRVSIGN_PFX in the cache builds" bash -c "
  cmake -S '$v' -B '$v/b2' ${CFG[*]} -DDRVSIGN_PFX='$PKI/other-leaf.pfx' -DDRVSIGN_PASSWORD_FILE='$PKI/password.txt' -DDRVSIGN_CA='$PKI/other-root.pem' >/dev/null &&
  cmake --build '$v/b2' >/dev/null && '$DRVSIGN' verify --package '$v/b2/toastpkg-package/toastpkg' --ca '$PKI/other-root.pem'"
check_exit "... and the cache holds paths, never the password" 1 grep -qF "$(cat "$PKI/password.txt")" "$v/b2/CMakeCache.txt"
}
behaviour_sign_mode_off() {
local src v
example_copy
v=$(variant off 's/SUBMISSION_CAB)/SUBMISSION_CAB SIGN_MODE off)/')
check "SIGN_MODE off: configure and build" bash -c "cmake -S '$v' -B '$v/b' ${CFG[*]} && cmake --build '$v/b'"
check "... stages and catalogs" test -f "$v/b/toastpkg-package/toastpkg/toastpkg.cat"
check_error "... without signing the catalog" 1 "toastpkg.cat: the file is not signed" \
  "$DRVSIGN" verify --ca "$PKI/root.pem" "$v/b/toastpkg-package/toastpkg/toastpkg.cat"
check_error "... or the boot-start driver" 1 "toaster.sys: the file is not signed" \
  "$DRVSIGN" verify --ca "$PKI/root.pem" "$v/b/toastpkg-package/toastpkg/amd64/toaster.sys"

}

# an x86 build with the example's other toolchain
behaviour_x86() {
local src b32="$WORK/b32"
example_copy
check "x86: configure with the i686 toolchain" cmake -S "$src" -B "$b32" -G Ninja "${CFG[@]}" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/mingw-w64-i686.cmake"
check "x86: build" cmake --build "$b32"
check "x86: staged under i386, for 10_X86" bash -c "test -f '$b32/toastpkg-package/toastpkg/i386/toaster.sys' && '$DRVSIGN' inspect '$b32/toastpkg-package/toastpkg/toastpkg.cat' | grep -q 'OS = _v100\$'"
check "x86: osslsigncode -catalog accepts the PE32 driver" osslsigncode verify -CAfile "$b32/drvsign-test-identity/root.pem" \
  -catalog "$b32/toastpkg-package/toastpkg/toastpkg.cat" -in "$b32/toastpkg-package/toastpkg/i386/toaster.sys"

}

# an installed drvsign, found through CMAKE_PREFIX_PATH (find_package(DrvSign CONFIG))
behaviour_installed_drvsign() {
local src
example_copy
check "install drvsign to a prefix" cmake --install "$(dirname "$DRVSIGN")" --prefix "$WORK/dsinst"
rm -rf "$WORK/alone" && cp -r "$src" "$WORK/alone"
check "find_package finds the installed DrvSign" cmake -S "$WORK/alone" -B "$WORK/alone/b" -DCMAKE_PREFIX_PATH="$WORK/dsinst"
check "... and uses the installed helper, building none" test ! -e "$WORK/alone/b/_drvsign_host"
check "... the package builds and verifies" bash -c "cmake --build '$WORK/alone/b' >/dev/null && '$DRVSIGN' verify --package '$WORK/alone/b/toastpkg-package/toastpkg' --ca '$WORK/alone/b/drvsign-test-identity/root.pem'"

}

# drvsign added with add_subdirectory() to a project that cross-compiles with mingw-w64
behaviour_add_subdirectory() {
local src
example_copy
rm -rf "$WORK/sub" && cp -r "$src" "$WORK/sub"
sed -i "s|^find_package(DrvSign.*|add_subdirectory(\"$REPO\" drvsign)|" "$WORK/sub/CMakeLists.txt"
check "add_subdirectory(drvsign) under a mingw toolchain: configure" bash -c "grep -q add_subdirectory '$WORK/sub/CMakeLists.txt' && cmake -S '$WORK/sub' -B '$WORK/sub/b' >/dev/null"
check "... the helper was built for the host" bash -c "file '$WORK/sub/b/_drvsign_host/drvsign' | grep -q ELF"
check "... build and verify" bash -c "cmake --build '$WORK/sub/b' >/dev/null && '$DRVSIGN' verify --package '$WORK/sub/b/toastpkg-package/toastpkg' --ca '$WORK/sub/b/drvsign-test-identity/root.pem'"

}

# the example as a user runs it: no arguments, drvsign found in the parent tree and built for the host
behaviour_no_arguments() {
local fresh="$WORK/fresh"
check "the example with no arguments: configure builds the host helper" cmake -S "$REPO/example-project" -B "$fresh"
check "... build" cmake --build "$fresh"
check "... the package verifies" "$DRVSIGN" verify --package "$fresh/toastpkg-package/toastpkg" --ca "$fresh/drvsign-test-identity/root.pem"
}

run_behaviours "$@"
