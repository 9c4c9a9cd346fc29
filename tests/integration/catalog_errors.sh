#!/usr/bin/env bash
# Inf2Cat's signability checks: each one reported as file:line with its code, every problem
# listed before exit 1, and no catalog written.
. "$(dirname "$0")/../lib.sh"
: "${TOASTPKG:?set TOASTPKG to the staged test package}"

variant() { # name: a fresh copy of the package in $WORK/<name>
  rm -rf "$WORK/$1"
  cp -r "$TOASTPKG" "$WORK/$1"
  echo "$WORK/$1"
}
edit_inf() { # dir sed-expression
  sed -i "$2" "$1/toastpkg.inf"
}
# expect_error NAME DIR OSLIST REGEX: exit 1, a file:line error matching REGEX, no catalog
expect_error() {
  local name=$1 dir=$2 os=$3 re=$4
  "$DRVSIGN" catalog --driver "$dir" --os "$os" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  check "$name: exits 1" test $rc -eq 1
  check "$name: reports $re" bash -c "cat '$WORK/err'; grep -Eq -- '^drvsign: .*toastpkg\\.inf:[0-9]+: .*$re' '$WORK/err'"
  check "$name: says the signability test failed" grep -q "Signability test failed" "$WORK/out"
  check "$name: writes no catalog" lacks '\.cat$' ls "$dir"
}

behaviour_missing_file() {
local d line rc
d=$(variant missing-file)
rm "$d/amd64/tostrco2.dll"
expect_error "22.9.1 missing file" "$d" 10_X64 "tostrco2.dll in \[CoInstaller_Files\] is missing.*amd64/tostrco2.dll.*\(22\.9\.1\)"
line=$(grep -n '^tostrco2.dll$' "$TOASTPKG/toastpkg.inf" | cut -d: -f1)
check "22.9.1: the line is the file-list entry's ($line)" grep -q "toastpkg.inf:$line:" "$WORK/err"
}

behaviour_no_catalog_file() {
local d line rc
d=$(variant no-catalogfile)
expect_error "22.9.4 no CatalogFile for arm64" "$d" 10_RS3_ARM64 "missing ARM64 CatalogFile entry \(CatalogFile.ntarm64, CatalogFile.nt, CatalogFile\).*\(22\.9\.4\)"
}

behaviour_no_driver_ver() {
local d line rc
d=$(variant no-driverver)
edit_inf "$d" '/^DriverVer/d'
expect_error "22.9.6 DriverVer missing" "$d" 10_X64 "DriverVer missing.*\(22\.9\.6\)"
}

behaviour_driver_ver_locale_date() {
local d line rc
d=$(variant bad-driverver)
edit_inf "$d" 's|^DriverVer .*|DriverVer = 15.06.2024,1.2.3.4|'
expect_error "22.9.6 DriverVer in a locale format" "$d" 10_X64 "DriverVer date .15\.06\.2024. is not a valid mm/dd/yyyy date \(22\.9\.6\)"
}

behaviour_driver_ver_version_range() {
local d line rc
d=$(variant bad-version)
edit_inf "$d" 's|^DriverVer .*|DriverVer = 06/15/2024,1.2.3.99999|'
expect_error "22.9.6 DriverVer version out of range" "$d" 10_X64 "DriverVer version .1\.2\.3\.99999.*\(22\.9\.6\)"
}

behaviour_driver_ver_future() {
local d line rc
d=$(variant future)
edit_inf "$d" 's|^DriverVer .*|DriverVer = 01/01/2099,1.0.0.0|'
expect_error "22.9.7 DriverVer in the future" "$d" 10_X64 "DriverVer set to a date in the future.*UTC.*\(22\.9\.7\)"
check_error "22.9.7 with --use-local-time says local time" 1 "local time.*22\.9\.7" \
  "$DRVSIGN" catalog --driver "$d" --os 10_X64 --use-local-time
}

behaviour_not_in_source_disks_files() {
local d line rc
d=$(variant not-in-sourcedisksfiles)
edit_inf "$d" '/^tostrcls.dll = 1/d'
expect_error "22.9.10 CopyFiles entry missing from SourceDisksFiles" "$d" 10_X64 "CopyFiles names tostrcls.dll, but \[SourceDisksFiles\] does not list it \(22\.9\.10\)"
}

behaviour_undecorated_models() {
local d line rc
d=$(variant undecorated)
edit_inf "$d" 's|^%Mfg% = Toaster_Models, NTx86, NTamd64|%Mfg% = Toaster_Models|'
printf '\n[Toaster_Models]\n%%ToasterDevice.Desc%% = Toaster_Device, root\\toaster\n' >>"$d/toastpkg.inf"
expect_error "non-x86 target with no decorated models" "$d" 10_X64 "no models section for amd64.*NTamd64"
check "undecorated models still serve x86" "$DRVSIGN" catalog --quiet --driver "$d" --os 10_X86
}

behaviour_path_escape() {
local d line rc
d=$(variant escape)
edit_inf "$d" 's|^1 = %DiskName%,toastpkg.tag,,\\amd64|1 = %DiskName%,toastpkg.tag,,..\\..\\etc|'
expect_error "a path leaving the package" "$d" 10_X64 "leaves the package directory"
}
behaviour_drive_letter_path() {
local d line rc
d=$(variant drive)
edit_inf "$d" 's|^1 = %DiskName%,toastpkg.tag,,\\amd64|1 = %DiskName%,toastpkg.tag,,C:\\drivers|'
expect_error "a drive-letter path" "$d" 10_X64 "leaves the package directory"
}

behaviour_several_problems() {
local d line rc
d=$(variant several)
edit_inf "$d" '/^DriverVer/d'
rm "$d/amd64/toaster.sys"
"$DRVSIGN" catalog --driver "$d" --os 10_X64 >/dev/null 2>"$WORK/err"
rc=$?
check "several problems: exit 1" test $rc -eq 1
check "several problems: all listed in one run" bash -c "cat '$WORK/err'; grep -q '22.9.6' '$WORK/err' && grep -q '22.9.1' '$WORK/err'"
}

behaviour_malformed_syntax() {
local d line rc
d=$(variant syntax)
printf '\n[Broken_Section\nfoo = "unterminated\n' >>"$d/toastpkg.inf"
check_error "malformed syntax: exit 1, the missing ']' reported with its line" 1 "toastpkg.inf:[0-9]+: section header is missing" \
  "$DRVSIGN" catalog --driver "$d" --os 10_X64
check "malformed syntax: no catalog" lacks '\.cat$' ls "$d"
}

behaviour_usage_errors() {
check_error "unknown --os id is a usage error that names the closest ids" 2 "did you mean .*10_X64" "$DRVSIGN" catalog --driver "$TOASTPKG" --os 10_X46
check_exit "--driver without --os is a usage error" 2 "$DRVSIGN" catalog --driver "$TOASTPKG"
}
behaviour_not_a_package() {
check_error "--driver on a missing directory says it does not exist" 1 "^drvsign: $WORK/nowhere: does not exist$" \
  "$DRVSIGN" catalog --driver "$WORK/nowhere" --os 10_X64
check "... and no signability verdict (no INF was checked)" lacks "Signability test" \
  exits 1 "$DRVSIGN" catalog --driver "$WORK/nowhere" --os 10_X64
check_error "--driver on a file says it is not a directory" 1 "toastpkg.inf: is not a directory" \
  "$DRVSIGN" catalog --driver "$TOASTPKG/toastpkg.inf" --os 10_X64
check_error "a directory without an INF: exit 1, saying so" 1 "no INF file in the root" "$DRVSIGN" catalog --driver "$WORK" --os 10_X64
}

# the case-insensitive file system Windows has: INF names need not match the case on disk
behaviour_case_insensitive_files() {
local d line rc
d=$(variant case)
mv "$d/amd64/toaster.sys" "$d/amd64/TOASTER.SYS"
check "files are found case-insensitively, as on Windows" "$DRVSIGN" catalog --quiet --driver "$d" --os 10_X64
}

run_behaviours "$@"
