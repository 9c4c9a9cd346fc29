#!/usr/bin/env bash
# The CMake module's commands under their drvsign_ names, on packages whose paths hold what
# breaks text protocols: ';' in the source directory (the INF's and FILES' paths), spaces, '='
# and non-ASCII everywhere (source, build, output and install directories, the INF's own
# name), and '|' and ';' in the production credentials' paths. (CMake itself cannot have a
# ';' in a build directory, nor can its Ninja and Makefile generators write a rule for a file
# whose path has a '|', so files the build makes cannot have those.) The INF is a UTF-16LE
# .inx with non-ASCII text: stamping keeps it. Including the module creates no cache
# variable. A newline, '|', ';' and quotes in every path go through the module's own manifest
# writer (cmake -P) and the pipeline's steps directly.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)

CFG=(-G Ninja -DDrvSign_DIR="$REPO/cmake" -DDRVSIGN_EXECUTABLE="$DRVSIGN")
inx='pkg ü=x y.inx'

# write_inf FILE: the INF: UTF-16LE with BOM, an empty DriverVer and $ARCH$ for StampInf,
# non-ASCII strings
write_inf() {
printf '%s\r\n' '[Version]' 'Signature   = "$WINDOWS NT$"' 'Class       = System' \
  'ClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10318}' 'Provider    = %Prov%' 'DriverVer   = ,1.0.0.0' \
  'CatalogFile = pkg.cat' '[DestinationDirs]' 'DefaultDestDir = 13' '[SourceDisksNames]' '1 = %Disk%' \
  '[SourceDisksFiles]' 'toaster.sys = 1' '[Manufacturer]' '%Prov% = Models, NT$ARCH$' '[Models.NT$ARCH$]' \
  '%Dev% = Install, root\toaster' '[Install.NT]' 'CopyFiles = @toaster.sys' '[Strings]' \
  'Prov = "Grüße GmbH"' 'Disk = "驱动 disk 😀"' 'Dev = "Tôaster"' |
  { printf '\xff\xfe'; iconv -f UTF-8 -t UTF-16LE; } >"$1"
}

# project_in DIR: the project's directories below DIR: its sources ($src), build ($bld),
# production credentials ($keys), test-signed outputs ($out) and test root ($root)
project_in() {
  src="$1/src dir;a=c ü驱动"
  bld="$1/build = ü"
  keys="$1/keys |;= ü"
  out="$bld/out =ü"
  root="$bld/drvsign-test-identity/root.pem"
  CRED=(-DDRVSIGN_PFX="$keys/leaf.pfx" -DDRVSIGN_PASSWORD_FILE="$keys/password.txt" -DDRVSIGN_CA="$keys/root.pem")
}
# write_project: the project's sources and credentials
write_project() {
  mkdir -p "$keys" "$src" &&
    cp "$PKI/leaf.pfx" "$PKI/password.txt" "$PKI/root.pem" "$keys/" &&
    cp "$DRIVERS/toaster.sys" "$src/" &&
    write_inf "$src/$inx" || return
cat >"$src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(paths NONE)
find_package(DrvSign CONFIG REQUIRED)
enable_testing()
drvsign_add_package(pkg INF "$inx" FILES toaster.sys BOOT_START toaster.sys ARCH amd64
                    DRIVER_DATE 02/03/2024 SUBMISSION_CAB OUTPUT_DIRECTORY "out =ü")
drvsign_add_package_test(pkg)
drvsign_install_package(pkg DESTINATION "drivers ü=")
drvsign_add_package(pkgp INF "$inx" FILES toaster.sys BOOT_START toaster.sys ARCH amd64
                    DRIVER_DATE 02/03/2024 SIGN_MODE production OUTPUT_DIRECTORY "outp =ü")
drvsign_add_package_test(pkgp)
CMAKE
}
configure_project() { cmake -S "$src" -B "$bld" "${CFG[@]}" "${CRED[@]}"; }

# the project configured and built in $FIXTURE
fixture_built_project() {
  project_in "$FIXTURE" && write_project && configure_project && cmake --build "$bld"
}
# built_project: the fixture's project, to read
built_project() { fixture built_project && project_in "$FIXTURE"; }

behaviour_configure_and_build() {
project_in "$WORK"
setup "the project's sources" write_project || return
check "packages in such paths configure" configure_project
check "... including the module made no cache variable (only those given)" bash -c "
  ! grep -E '^DRVSIGN_' '$bld/CMakeCache.txt' | grep -Ev '^DRVSIGN_(EXECUTABLE|PFX|PASSWORD_FILE|CA):'"
check "... the manifest is versioned and quotes the paths" bash -c "
  head -2 '$bld/drvsign/pkg/manifest.txt' | tail -1 | grep -qx 'drvsign-manifest 1' &&
  grep -qxF 'inf \"$src/$inx\"' '$bld/drvsign/pkg/manifest.txt' &&
  grep -qxF 'pfx \"$keys/leaf.pfx\"' '$bld/drvsign/pkgp/manifest.txt'"
check "... builds" cmake --build "$bld"
log="$bld/drvsign/pkg/steps.log"
steps=$(wc -l <"$log")
check "a reconfigure and rebuild with no change runs no drvsign step" bash -c "
  cmake '$bld' >/dev/null && cmake --build '$bld' >/dev/null && [ \$(wc -l <'$log') -eq $steps ]"
}

behaviour_test_signed_package() {
setup "the project, built" built_project || return
check "... the package verifies (drvsign)" "$DRVSIGN" verify --package "$out/pkg" --ca "$root"
check "... the catalog verifies (osslsigncode)" osslsigncode verify -CAfile "$root" -in "$out/pkg/pkg.cat"
check "... toaster.sys, embed-signed and a catalog member (osslsigncode)" \
  osslsigncode verify -CAfile "$root" -in "$out/pkg/toaster.sys" -catalog "$out/pkg/pkg.cat"
check "... the cabinet verifies (osslsigncode) and extracts (cabextract -t)" bash -c "
  osslsigncode verify -CAfile '$root' -in '$out/pkg.cab' && cabextract -t '$out/pkg.cab'"
}

behaviour_production_package() {
setup "the project, built" built_project || return
check "... the production package, signed with the key at the '|' path, verifies" \
  "$DRVSIGN" verify --package "$bld/outp =ü/pkgp" --ca "$PKI/root.pem"
check "... and its catalog (osslsigncode)" osslsigncode verify -CAfile "$PKI/root.pem" -in "$bld/outp =ü/pkgp/pkg.cat"
}

behaviour_stamped_inf() {
setup "the project, built" built_project || return
staged="$out/pkg/pkg ü=x y.inf"
check "... the stamped INF is UTF-16LE with its BOM" bash -c "head -c 2 '$staged' | od -An -tx1 | grep -q 'ff fe'"
check "... and keeps every character, stamped" bash -c "
  iconv -f UTF-16LE -t UTF-8 '$staged' >'$WORK/staged.txt' &&
  grep -qF 'Prov = \"Grüße GmbH\"' '$WORK/staged.txt' && grep -qF '驱动 disk 😀' '$WORK/staged.txt' &&
  grep -qF 'Tôaster' '$WORK/staged.txt' && grep -qF '[Models.NTamd64]' '$WORK/staged.txt' &&
  grep -qF 'DriverVer = 02/03/2024,1.0.0.0' '$WORK/staged.txt'"
}

behaviour_package_tests() {
setup "the project, built" built_project || return
check "drvsign_add_package_test: the tests pass (test root; DRVSIGN_CA at the '|' path)" \
  ctest --test-dir "$bld" -R '^pkgp?\.verify$' --output-on-failure
}

behaviour_install() {
setup "the project, built" built_project || return
check "drvsign_install_package: installs into such a DESTINATION" bash -c "
  cmake --install '$bld' --prefix '$WORK/inst ü=' >/dev/null &&
  '$DRVSIGN' verify --package '$WORK/inst ü=/drivers ü=/pkg' --ca '$root'"
}

# the drvsign_ names in messages
behaviour_command_names_in_messages() {
local bad
bad="$WORK/bad"
mkdir -p "$bad"
printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(bad NONE)' 'find_package(DrvSign CONFIG REQUIRED)' \
  'drvsign_add_package(pkg FILES toaster.sys)' >"$bad/CMakeLists.txt"
check "drvsign_add_package misused: the message names drvsign_add_package and the caller's line" \
  exits_flat 1 "drvsign_add_package\\(pkg\\): INF is required .*CMakeLists.txt:4 \\(drvsign_add_package\\)" \
  cmake -S "$bad" -B "$bad/b" "${CFG[@]}"
printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(bad NONE)' 'find_package(DrvSign CONFIG REQUIRED)' \
  'drvsign_install_package(nosuch DESTINATION d)' >"$bad/CMakeLists.txt"
check "drvsign_install_package of no package: the message names it" \
  exits_flat 1 "drvsign_install_package\\(nosuch\\): nosuch is not a package; call drvsign_add_package\\(nosuch \\.\\.\\.\\) first" \
  cmake -S "$bad" -B "$bad/b2" "${CFG[@]}"
printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(bad NONE)' 'find_package(DrvSign CONFIG REQUIRED)' \
  'drvsign_add_package_test(nosuch)' >"$bad/CMakeLists.txt"
check "drvsign_add_package_test of no package: the message names it" \
  exits_flat 1 "drvsign_add_package_test\\(nosuch\\): nosuch is not a package" cmake -S "$bad" -B "$bad/b3" "${CFG[@]}"
}

# newline_inputs: $nl, a directory with a newline, '|', ';' and quotes in its path, holding
# the INF (named $nlinx), toaster.sys and a test identity; and the script that writes the
# package's manifest there through the module's own writer (write_manifest)
newline_inputs() {
nl="$WORK/new
line |;= \"q\" ü"
nlinx='pkg ]=] ]==] ü.inx' # its stamped name comes back through the plan, as CMake code
mkdir -p "$nl/src" && write_inf "$nl/src/$nlinx" && cp "$DRIVERS/toaster.sys" "$nl/src/" &&
  "$DRVSIGN" testcert --quiet --out "$nl/identity" >/dev/null || return
cat >"$WORK/write.cmake" <<'CMAKE'
include("${MODULE}")
set(text "drvsign-manifest 1\n")
_drvsign_manifest_line(text name "pkg")
_drvsign_manifest_line(text inf "$ENV{NL}/src/$ENV{INX}")
_drvsign_manifest_line(text arch "amd64")
_drvsign_manifest_line(text driver_date "02/03/2024")
_drvsign_manifest_line(text os "10_X64")
_drvsign_manifest_line(text boot_start "toaster.sys")
_drvsign_manifest_line(text provides "toaster.sys")
_drvsign_manifest_line(text identity "$ENV{NL}/identity")
_drvsign_manifest_line(text output "$ENV{NL}/out/pkg")
_drvsign_manifest_line(text work "$ENV{NL}/work")
_drvsign_manifest_line(text cab "$ENV{NL}/out/pkg.cab")
file(WRITE "$ENV{NL}/toaster.path" "$ENV{NL}/src/toaster.sys")
_drvsign_manifest_line(text file_from "$ENV{NL}/toaster.path")
_drvsign_write_if_changed("$ENV{NL}/manifest.txt" "${text}")
CMAKE
}
write_manifest() {
  env NL="$nl" INX="$nlinx" cmake -DMODULE="$REPO/cmake/DrvSign.cmake" -P "$WORK/write.cmake"
}

# A newline in every path: the module's manifest writer (cmake -P) and the pipeline's steps
behaviour_newline_paths() {
setup "the inputs in a path with a newline" newline_inputs || return
check "a newline in the paths: the module's writer writes the manifest" write_manifest
run() { "$DRVSIGN" package --manifest "$nl/manifest.txt" "$@"; }
check "... the plan reads it" bash -c "$(declare -f run); DRVSIGN='$DRVSIGN' nl='$nl'; run plan >'$WORK/plan.cmake'"
cat >"$WORK/check-plan.cmake" <<'CMAKE'
include("${PLAN}")
if(NOT _drvsign_plan_inf STREQUAL "pkg ]=] ]==] ü.inf" OR NOT _drvsign_plan_catalogs STREQUAL "pkg.cat"
   OR NOT _drvsign_plan_sources STREQUAL "toaster.sys" OR NOT _drvsign_plan_rels STREQUAL "toaster.sys")
  message(FATAL_ERROR "plan: '${_drvsign_plan_inf}' '${_drvsign_plan_catalogs}' '${_drvsign_plan_sources}' '${_drvsign_plan_rels}'")
endif()
CMAKE
check "... its output is CMake code that gives the names back exactly" \
  cmake -DPLAN="$WORK/plan.cmake" -P "$WORK/check-plan.cmake"
check "... stamp, stage, catalog, sign, cab and summary run" bash -c "
  $(declare -f run); nl='$nl' DRVSIGN='$DRVSIGN'
  run stamp \"\$nl/work/pkg ]=] ]==] ü.inf\" && run stage 'pkg ]=] ]==] ü.inf' && run stage toaster.sys &&
  run catalog && run sign-catalog && run cab && run summary"
check "... the package verifies (drvsign)" "$DRVSIGN" verify --package "$nl/out/pkg" --ca "$nl/identity/root.pem"
check "... and its catalog (osslsigncode)" osslsigncode verify -CAfile "$nl/identity/root.pem" -in "$nl/out/pkg/pkg.cat"
}

# the front ends' words: the CLI's for a missing --manifest, the manifest's own for its version
behaviour_front_end_words() {
check_error "package without --manifest: a usage error (exit 2) naming it" 2 \
  "^drvsign: package needs --manifest FILE" "$DRVSIGN" package plan
setup "the inputs in a path with a newline" newline_inputs || return
setup "a manifest, written by the module" write_manifest || return
sed 's/^drvsign-manifest 1$/drvsign-manifest 2/' "$nl/manifest.txt" >"$WORK/v2.manifest"
check_error "a manifest of another format version: one error (exit 1) saying so" 1 \
  "^drvsign: $WORK/v2.manifest:1: manifest format \"2\", but this drvsign reads format 1" \
  "$DRVSIGN" package --manifest "$WORK/v2.manifest" plan
}

run_behaviours "$@"
