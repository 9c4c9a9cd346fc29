#!/usr/bin/env bash
# Every misuse of the CMake functions fails configure (exit 1) with a message in the module's own
# words, naming the function, the package and the argument, and pointing at the caller's line;
# never CMake's raw errors (CMP0002 and the like) from inside DrvSign.cmake.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CFG=(-DDrvSign_DIR="$REPO/cmake" -DDRVSIGN_EXECUTABLE="$DRVSIGN")

# the package every project here builds, in this behaviour's WORK
base_package() {
base="$WORK/base"
mkdir -p "$base"
cp "$DRIVERS/toaster.sys" "$base/"
cat >"$base/pkg.inf" <<'INF'
[Version]
Signature   = "$WINDOWS NT$"
Class       = System
ClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10318}
Provider    = drvsign
DriverVer   = 01/15/2024,1.0.0.0
CatalogFile = pkg.cat
[DestinationDirs]
DefaultDestDir = 13
[SourceDisksNames]
1 = disk
[SourceDisksFiles]
toaster.sys = 1
[Manufacturer]
drvsign = Models, NTamd64
[Models.NTamd64]
Toaster = Install, root\toaster
[Install.NT]
CopyFiles = @toaster.sys
INF
: >"$base/notes.txt"
}

n=0
# misuse DESCRIPTION REGEX CMAKE-LINES...: a project of these lines fails configure, exit 1, with
# REGEX in its message, the caller's line in the call stack, and nothing raw from CMake
misuse() {
  local d=$1 re=$2 dir base
  shift 2
  base_package
  n=$((n + 1))
  dir="$WORK/m$n"
  cp -r "$base" "$dir"
  {
    echo 'cmake_minimum_required(VERSION 3.20)'
    echo 'project(misuse NONE)'
    echo 'find_package(DrvSign CONFIG REQUIRED)'
    printf '%s\n' "$@"
  } >"$dir/CMakeLists.txt"
  cmake -S "$dir" -B "$dir/b" "${CFG[@]}" >"$dir/out" 2>&1
  local rc=$?
  check "$d: configure fails (exit 1)" test $rc -eq 1
  check "$d: the module says '$re'" exits_flat 0 "$re" cat "$dir/out"
  check "$d: ... pointing at the caller's line" grep -Eq "^  CMakeLists.txt:[0-9]+ \((add_signed_driver_package|drvsign_install_driver_package|add_driver_package_test)\)" "$dir/out"
  check "$d: ... and no raw CMake error" lacks "CMP0002|add_custom_target cannot create|Unknown arguments specified|is not a target in this project" cat "$dir/out"
}
P='add_signed_driver_package(pkg INF pkg.inf FILES toaster.sys'
A="add_signed_driver_package\\(pkg\\):"

behaviour_package_named_like_an_existing_target_its_driver() {
misuse "a package named like an existing target (its driver)" \
  "add_signed_driver_package\\(toaster\\): the package name 'toaster' is already a target .*name the package differently, for example toaster_package" \
  'add_custom_target(toaster)' 'add_signed_driver_package(toaster INF pkg.inf FILES toaster.sys)'
}
behaviour_same_package_twice() {
misuse "the same package twice" "the package name 'pkg' is already a target" "$P)" "$P)"
}
behaviour_package_name_that_cannot_be_a_folder() {
misuse "a package name that cannot be a folder" "the package name 'my:pkg' becomes a target and the package folder" \
  'add_signed_driver_package(my:pkg INF pkg.inf FILES toaster.sys)'
}
behaviour_40_character_name_with_submission_cab() {
misuse "a 40-character name with SUBMISSION_CAB" "is the folder in the SUBMISSION_CAB, and Partner Center takes folder names under 40 characters" \
  "add_signed_driver_package($(printf 'p%.0s' $(seq 40)) INF pkg.inf FILES toaster.sys SUBMISSION_CAB)"
}
behaviour_unknown_argument() {
misuse "an unknown argument" "$A unknown argument\\(s\\) 'FROB now'; the arguments are PAGE_HASHES, INF, " \
  'add_signed_driver_package(pkg FROB now INF pkg.inf FILES toaster.sys)'
}
behaviour_misspelt_keyword_after_a_list_taken_as_a_file() {
misuse "a misspelt keyword after a list (taken as a file)" "$A FILES names .*/BOOTSTART, which does not exist" "$P BOOTSTART toaster.sys)"
}
behaviour_no_inf() {
misuse "no INF" "$A INF is required" 'add_signed_driver_package(pkg FILES toaster.sys)'
}
behaviour_inf_without_a_value() {
misuse "INF without a value" "$A INF is given without a value" 'add_signed_driver_package(pkg INF FILES toaster.sys)'
}
behaviour_inf_that_does_not_exist() {
misuse "an INF that does not exist" "$A INF .*/nope.inf does not exist" 'add_signed_driver_package(pkg INF nope.inf FILES toaster.sys)'
}
behaviour_inf_that_is_not_an_inf_or_inx() {
misuse "an INF that is not an .inf or .inx" "$A INF is an .inf or .inx file, not 'notes.txt'" 'add_signed_driver_package(pkg INF notes.txt FILES toaster.sys)'
}
behaviour_targets_naming_no_target() {
misuse "TARGETS naming no target" "$A TARGETS names nosuch, which is not a target" 'add_signed_driver_package(pkg INF pkg.inf TARGETS nosuch)'
}
behaviour_targets_naming_a_static_library() {
misuse "TARGETS naming a static library" "$A TARGETS names lib, a STATIC_LIBRARY; it takes executables and shared or module libraries" \
  'add_library(lib STATIC IMPORTED)' 'add_signed_driver_package(pkg INF pkg.inf TARGETS lib)'
}
behaviour_targets_without_a_value() {
misuse "TARGETS without a value" "$A TARGETS is given without a value" 'add_signed_driver_package(pkg INF pkg.inf TARGETS)'
}
behaviour_files_naming_a_missing_file() {
misuse "FILES naming a missing file" "$A FILES names .*/missing.sys, which does not exist" 'add_signed_driver_package(pkg INF pkg.inf FILES missing.sys)'
}
behaviour_boot_start_naming_a_file_outside_the_package() {
misuse "BOOT_START naming a file outside the package" "$A BOOT_START names other.sys, which is not in TARGETS or FILES" "$P BOOT_START other.sys)"
}
behaviour_unknown_arch() {
misuse "an unknown ARCH" "$A ARCH is amd64, x86 or arm64, not 'mips'" "$P ARCH mips)"
}
behaviour_unknown_sign_mode() {
misuse "an unknown SIGN_MODE" "$A SIGN_MODE is off, test or production, not 'release'" "$P SIGN_MODE release)"
}
behaviour_driver_version_out_of_range() {
misuse "a DRIVER_VERSION out of range" "$A drvsign: DRIVER_VERSION is a version w.x.y.z \\(each 0 to 65535\\), not '1.2.3.70000'" "$P DRIVER_VERSION 1.2.3.70000)"
}
behaviour_driver_version_that_is_no_version() {
misuse "a DRIVER_VERSION that is no version" "$A drvsign: DRIVER_VERSION is a version w.x.y.z" "$P DRIVER_VERSION v1.2)"
}
behaviour_driver_date_in_another_format() {
misuse "a DRIVER_DATE in another format" "$A drvsign: DRIVER_DATE is a date mm/dd/yyyy from 1980 on, not '2024-01-15'" "$P DRIVER_DATE 2024-01-15)"
}
behaviour_bad_kmdf_version() {
misuse "a bad KMDF_VERSION" "$A drvsign: KMDF_VERSION is a KMDF version x.y \\(for example 1.15\\), not '1'" "$P KMDF_VERSION 1)"
}
behaviour_bad_umdf_version() {
misuse "a bad UMDF_VERSION" "$A drvsign: UMDF_VERSION is a UMDF version x.y.z" "$P UMDF_VERSION two)"
}
# values the library checks (its validator, run by the plan step at configure time), worded in
# the module's argument names
behaviour_catalog_version_3() {
misuse "CATALOG_VERSION 3" "$A drvsign: CATALOG_VERSION is 1 or 2, not '3'" "$P CATALOG_VERSION 3)"
}
behaviour_catalog_version_that_is_no_number() {
misuse "CATALOG_VERSION two" "$A CATALOG_VERSION is a number, not 'two'" "$P CATALOG_VERSION two)"
}
behaviour_unknown_archive_format() {
misuse "an unknown ARCHIVE format" "$A drvsign: ARCHIVE is zip, tar.gz, tar.xz or 7z, not 'rar'" "$P ARCHIVE rar)"
}
behaviour_timestamp_url_that_is_not_http_s() {
misuse "a TIMESTAMP_URL that is not http(s)" "$A drvsign: TIMESTAMP_URL is an http:// or https:// URL, not 'ftp://tsa'" "$P TIMESTAMP_URL ftp://tsa)"
}
# the same library check the command line words as --os, in the module's OS; and every problem
# listed, one line each, before configure fails
behaviour_library_checks_name_cmake_arguments() {
misuse "four problems at once" "$A drvsign: CATALOG_VERSION is 1 or 2, not '3'" \
  "$P OS 10_X46 CATALOG_VERSION 3 ARCHIVE rar TIMESTAMP_URL ftp://tsa)"
local out="$WORK/m$n/out"
check "... CATALOG_VERSION" grep -q "drvsign: CATALOG_VERSION is 1 or 2, not '3'" "$out"
check "... ARCHIVE" grep -q "drvsign: ARCHIVE is zip, tar.gz, tar.xz or 7z, not 'rar'" "$out"
check "... TIMESTAMP_URL" grep -q "drvsign: TIMESTAMP_URL is an http:// or https:// URL, not 'ftp://tsa'" "$out"
check "... OS" grep -q "drvsign: unknown OS id '10_X46'; did you mean .*10_X64" "$out"
check "... four lines from the library" test "$(grep -c '^ *drvsign: ' "$out")" -eq 4
check "... and no command-line flag in them" lacks "drvsign: .*--[a-z]" cat "$out"
}
behaviour_production_without_credentials() {
misuse "SIGN_MODE production without credentials" \
  "$A drvsign: sign needs a signing identity: DRVSIGN_PFX, or DRVSIGN_CERT and DRVSIGN_KEY, or DRVSIGN_CERT and DRVSIGN_SIGNER_COMMAND" \
  "$P SIGN_MODE production)"
}
behaviour_production_with_a_key_but_no_certificate() {
misuse "SIGN_MODE production with DRVSIGN_KEY alone" "$A drvsign: DRVSIGN_KEY needs DRVSIGN_CERT as well" \
  "set(DRVSIGN_KEY \"\${CMAKE_CURRENT_SOURCE_DIR}/notes.txt\")" "$P SIGN_MODE production)"
}
behaviour_submission_cab_that_is_not_a_cab_name() {
misuse "a SUBMISSION_CAB that is not a .cab name" "$A SUBMISSION_CAB is a file name ending in .cab" "$P SUBMISSION_CAB out/pkg.zip)"
}
behaviour_two_submission_cab_names() {
misuse "two SUBMISSION_CAB names" "$A SUBMISSION_CAB takes at most one file name" "$P SUBMISSION_CAB a.cab b.cab)"
}
behaviour_installing_what_is_not_a_package() {
misuse "installing what is not a package" "drvsign_install_driver_package\\(nosuch\\): nosuch is not a package" \
  'drvsign_install_driver_package(nosuch DESTINATION drivers)'
}
behaviour_installing_a_target_that_is_not_a_package() {
misuse "installing a target that is not a package" "drvsign_install_driver_package\\(other\\): other is a target, but not a package" \
  'add_custom_target(other)' 'drvsign_install_driver_package(other DESTINATION drivers)'
}
behaviour_installing_without_destination() {
misuse "installing without DESTINATION" "drvsign_install_driver_package\\(pkg\\): DESTINATION is required" "$P)" 'drvsign_install_driver_package(pkg)'
}
behaviour_installing_with_an_unknown_argument() {
misuse "installing with an unknown argument" "drvsign_install_driver_package\\(pkg\\): unknown argument\\(s\\) 'RENAME x'" \
  "$P)" 'drvsign_install_driver_package(pkg DESTINATION drivers RENAME x)'
}
behaviour_test_of_what_is_not_a_package() {
misuse "a test of what is not a package" "add_driver_package_test\\(nosuch\\): nosuch is not a package" 'add_driver_package_test(nosuch)'
}
behaviour_test_with_a_missing_ca() {
misuse "a test with a missing CA" "add_driver_package_test\\(pkg\\): CA .*/missing.pem does not exist" "$P)" 'add_driver_package_test(pkg CA missing.pem)'
}
behaviour_two_tests_of_one_name() {
misuse "two tests of one name" "add_driver_package_test\\(pkg\\): there is a test named pkg.verify already; give NAME" \
  'enable_testing()' "$P)" 'add_driver_package_test(pkg)' 'add_driver_package_test(pkg)'
}

# drvsign's own tests: a tool they need that cannot be found is a configure error naming it (here
# every program is hidden behind a find root that does not exist), never a smaller suite
behaviour_tests_without_their_tools() {
check "drvsign's tests without their tools: configure fails, naming them" exits_flat 1 \
  "drvsign: the tests need x86_64-w64-mingw32-gcc, .*osslsigncode, .*gcab, .*softhsm2-util, .*which this machine lacks\\. scripts/deps.sh test installs them" \
  cmake -S "$REPO" -B "$WORK/notools" -G Ninja -DCMAKE_C_COMPILER="$(command -v cc)" \
  -DCMAKE_MAKE_PROGRAM="$(command -v ninja)" -DDRVSIGN_BASH="$(command -v bash)" \
  -DCMAKE_FIND_ROOT_PATH=/nonexistent -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=ONLY
}

# the control: the same project, used rightly, configures and builds a package
behaviour_control_project() {
local good="$WORK/good" base
base_package
cp -r "$base" "$good"
printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(good NONE)' 'find_package(DrvSign CONFIG REQUIRED)' \
  'enable_testing()' "$P BOOT_START toaster.sys SUBMISSION_CAB pkg.cab)" 'add_driver_package_test(pkg)' \
  'drvsign_install_driver_package(pkg DESTINATION drivers)' >"$good/CMakeLists.txt"
check "the control project configures" cmake -S "$good" -B "$good/b" "${CFG[@]}"
check "... builds" cmake --build "$good/b"
check "... and its package verifies" "$DRVSIGN" verify --package "$good/b/pkg-package/pkg" --ca "$good/b/drvsign-test-identity/root.pem"
}

run_behaviours "$@"
