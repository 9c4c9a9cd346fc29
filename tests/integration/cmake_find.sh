#!/usr/bin/env bash
# A new driver project, in the shape of Visual Studio's KMDF template (tests/kmdf/KMDFDriver1),
# finds drvsign with find_package(DrvSign CONFIG REQUIRED) in each of the four ways the README
# shows: from a clone, from an installed copy, after add_subdirectory(), after FetchContent (from
# a local git repository: no network). Each builds a test-signed package, checked by
# osslsigncode and drvsign, in at most ten lines of CMake.
. "$(dirname "$0")/../lib.sh"
# each way builds its own host helper here; the shared helper cache has its own test (helper_cache)
export DRVSIGN_HELPER_CACHE=OFF
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TOOLCHAIN=(-DCMAKE_TOOLCHAIN_FILE="$REPO/example-project/cmake/mingw-w64-x86_64.cmake")
KMDF="$REPO/tests/kmdf/KMDFDriver1"
export CMAKE_BUILD_PARALLEL_LEVEL=2 # the host helper builds
unset SOURCE_DATE_EPOCH # the stamped DriverVer is today's

# this source tree as a git repository of its own, for FetchContent's GIT_REPOSITORY (gitsrc,
# at commit rev), in this behaviour's WORK
git_snapshot() {
gitsrc="$WORK/drvsign-git"
mkdir -p "$gitsrc"
(cd "$REPO" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$gitsrc"
git -C "$gitsrc" init -q &&
  git -C "$gitsrc" add -A &&
  git -C "$gitsrc" -c user.name=drvsign -c user.email=drvsign@localhost commit -q -m snapshot
rev=$(git -C "$gitsrc" rev-parse HEAD)
}

lines_of_cmake() { grep -cvE '^[[:space:]]*(#|$)' "$1"; }
behaviour_template_is_short() {
check "the template project's CMakeLists.txt is at most ten lines" test "$(lines_of_cmake "$KMDF/CMakeLists.txt")" -le 10
}

# project WAY: the template project, set up to find drvsign that way
project() {
  local d="$WORK/$1"
  rm -rf "$d"
  cp -r "$KMDF" "$d"
  case $1 in
    subdirectory)
      cp -r "$gitsrc" "$d/drvsign"
      rm -rf "$d/drvsign/.git"
      sed -i 's|^find_package(DrvSign|add_subdirectory(drvsign)\nfind_package(DrvSign|' "$d/CMakeLists.txt" ;;
    fetchcontent)
      sed -i "s|^find_package(DrvSign|include(FetchContent)\nFetchContent_Declare(drvsign GIT_REPOSITORY file://$gitsrc GIT_TAG $rev)\nFetchContent_MakeAvailable(drvsign)\nfind_package(DrvSign|" \
        "$d/CMakeLists.txt" ;;
  esac
  echo "$d"
}

install_prefix() { setup "install drvsign to a prefix" cmake --install "$(dirname "$DRVSIGN")" --prefix "$WORK/prefix"; }
behaviour_installed_config_files() {
check "install drvsign to a prefix" cmake --install "$(dirname "$DRVSIGN")" --prefix "$WORK/prefix"
check "... with the exported target and the config files" \
  test -f "$WORK/prefix/lib/cmake/DrvSign/DrvSignTargets.cmake" -a -f "$WORK/prefix/lib/cmake/DrvSign/DrvSignConfig.cmake"
check "... which import DrvSign::drvsign" grep -q 'add_executable(DrvSign::drvsign IMPORTED)' "$WORK/prefix/lib/cmake/DrvSign/DrvSignTargets.cmake"

}

way() { # clone|installed|subdirectory|fetchcontent: the project built that way, and checked
  local way=$1 d b extra pkg id
  d=$(project $way)
  b="$d/build"
  extra=()
  case $way in
    clone) extra=(-DCMAKE_PREFIX_PATH="$REPO") ;;
    installed) extra=(-DCMAKE_PREFIX_PATH="$WORK/prefix") ;;
  esac
  check "$way: the project's CMakeLists.txt is at most ten lines" test "$(lines_of_cmake "$d/CMakeLists.txt")" -le 10
  check "$way: ... with find_package(DrvSign CONFIG REQUIRED)" grep -qx 'find_package(DrvSign CONFIG REQUIRED)' "$d/CMakeLists.txt"
  check "$way: configure" cmake -S "$d" -B "$b" "${TOOLCHAIN[@]}" "${extra[@]}"
  if [ $way = installed ]; then
    check "$way: the installed helper is used, none built" test ! -e "$b/_drvsign_host"
  else
    check "$way: a helper is built for the host" bash -c "file '$b/_drvsign_host/drvsign' | grep -q ELF"
  fi
  check "$way: build" cmake --build "$b"
  pkg="$b/KMDFDriver1_package-package/KMDFDriver1_package"
  id="$b/drvsign-test-identity"
  check "$way: the INF is stamped as StampInf does: amd64, KMDF 1.15, today's DriverVer" bash -c "
    grep -Ei 'DriverVer|^Kmdf|^\[Standard' '$pkg/KMDFDriver1.inf'
    grep -q '^\[Standard.NTamd64.10.0...16299\]' '$pkg/KMDFDriver1.inf' &&
    grep -q '^KmdfLibraryVersion = 1.15' '$pkg/KMDFDriver1.inf' &&
    grep -Eq \"^DriverVer = \$(date -u +%m/%d/%Y)\" '$pkg/KMDFDriver1.inf'"
  check "$way: osslsigncode -catalog accepts the driver" osslsigncode verify -CAfile "$id/root.pem" \
    -catalog "$pkg/KMDFDriver1.cat" -in "$pkg/KMDFDriver1.sys"
  check "$way: drvsign verify --package" "$DRVSIGN" verify --package "$pkg" --ca "$id/root.pem"
  check "$way: the submission cabinet is signed (osslsigncode)" osslsigncode verify -CAfile "$id/root.pem" \
    -in "$b/KMDFDriver1_package-package/KMDFDriver1_package.cab"
  check_output "$way: a build with nothing to do still says where the package is" \
    "drvsign: package KMDFDriver1_package: $pkg \\(submission cabinet .*KMDFDriver1_package\\.cab\\)" cmake --build "$b"
}
behaviour_clone() { way clone; }
behaviour_installed() { install_prefix && way installed; }
behaviour_subdirectory() {
  local gitsrc rev
  git_snapshot
  setup "a git repository of this tree" test -n "$rev" && way subdirectory
}
behaviour_fetchcontent() {
  local gitsrc rev
  git_snapshot
  check "a git repository of this tree for FetchContent" test -n "$rev"
  way fetchcontent
}

# the name the template suggests for the package is its driver's: a clear error, not CMP0002
behaviour_package_named_like_its_driver() {
local d
install_prefix || return
d=$(project samename)
sed -i 's/drvsign_add_package(KMDFDriver1_package /drvsign_add_package(KMDFDriver1 /' "$d/CMakeLists.txt"
check "a package named like its driver target: the module says so, naming another name" exits_flat 1 \
  "drvsign_add_package\\(KMDFDriver1\\): the package name 'KMDFDriver1' is already a target .* for example KMDFDriver1_package" \
  cmake -S "$d" -B "$d/build" "${TOOLCHAIN[@]}" -DCMAKE_PREFIX_PATH="$WORK/prefix"
}

run_behaviours "$@"
