#!/usr/bin/env bash
# add_signed_driver_package() with no OS argument on the template-shaped INFs (tests/infs):
# the default OS ids exist and take build-gated models (10_X64 on amd64, Server10_ARM64 on
# arm64); the catalogs' members, OS attribute and OSAttr are read back by catcheck.py. And
# INF problems found at configure or build time name the source .inx and its line, not the
# stamped copy in the build tree.
. "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CATCHECK="$PY $REPO/tests/tools/catcheck.py"
CFG=(-DDrvSign_DIR="$REPO/cmake" -DDRVSIGN_EXECUTABLE="$DRVSIGN")

declare -A ships=(
  [kmdf]=kmdfdemo.sys [kmdf_empty]="" [umdf2]=umdfdemo.dll [wdm]=wdmdemo.sys
  [filter]=kbfiltdemo.sys [extension]=extdemo.dll [component]=swcdemo.exe
  [primitive]=primdemo.sys [banner]=bannerdemo.sys [win11]=win11demo.sys)
templates="kmdf kmdf_empty umdf2 wdm filter extension component primitive banner win11"
# the project of every template, in $src (this behaviour's WORK)
templates_project() {
local t f b files
src="$WORK/src"
mkdir -p "$src/bin"
cp "$REPO"/tests/infs/*.inx "$src/"
cp "$DRIVERS/toaster.sys" "$DRIVERS/helper.dll" "$DRIVERS/tool.exe" "$src/bin/"
{
  echo 'cmake_minimum_required(VERSION 3.20)'
  echo 'project(templates NONE)'
  echo 'find_package(DrvSign REQUIRED)'
  echo 'set(arch_arg "")'
  echo 'if(TEST_ARCH)'
  echo '  set(arch_arg ARCH ${TEST_ARCH})'
  echo 'endif()'
  for t in $templates; do
    files=""
    for f in ${ships[$t]}; do
      case $f in *.sys) b=toaster.sys ;; *.dll) b=helper.dll ;; *.exe) b=tool.exe ;; esac
      mkdir -p "$src/$t"
      cp "$src/bin/$b" "$src/$t/$f"
      files="$files $t/$f"
    done
    echo "add_signed_driver_package($t INF $t.inx ${files:+FILES$files} \${arch_arg} SIGN_MODE off"
    echo "  DRIVER_VERSION 1.0.0.1 DRIVER_DATE 01/15/2024 KMDF_VERSION 1.15 UMDF_VERSION 2.15.0)"
  done
} >"$src/CMakeLists.txt"
}

# one project for every template, with no OS argument, built for ARCH
templates_for() {
  local arch=$1 src b extra os_token t pkg inf cat members f
  templates_project
  b="$WORK/b-$arch"
  extra=()
  [ $arch = arm64 ] && extra=(-DTEST_ARCH=arm64)
  os_token=_v100_X64
  [ $arch = arm64 ] && os_token=Server_v100_ARM64
  check "$arch: configure with no OS argument" cmake -S "$src" -B "$b" -G Ninja "${CFG[@]}" "${extra[@]}"
  check "$arch: build" bash -c "cmake --build '$b' >'$WORK/build-$arch.log' 2>&1 || { tail -30 '$WORK/build-$arch.log'; false; }"
  for t in $templates; do
    pkg="$b/$t-package/$t"
    inf="$pkg/$t.inf"
    cat=$(sed -n 's/^CatalogFile *= *\([^ ;]*\).*/\1/p' "$REPO/tests/infs/$t.inx")
    members=("$inf")
    for f in ${ships[$t]}; do members+=("$pkg/$f"); done
    check "$arch $t: the stamped INF names $arch" grep -qi "NT$arch" "$inf"
    check "$arch $t: catalog members, OS $os_token, OSAttr 2:10.0 (catcheck)" \
      $CATCHECK check "$pkg/$cat" --os "$os_token" --osattr 2:10.0 "${members[@]}"
  done
}
behaviour_amd64() { templates_for amd64; }
behaviour_arm64() { templates_for arm64; }

# problems name the source INX and its line (CMake wraps message lines: exits_flat compares them flat)
behaviour_problems_name_the_source() {
local bad="$WORK/bad" line dline
mkdir -p "$bad"
cp "$REPO/tests/infs/kmdf.inx" "$bad/kmdf.inx"
# no DriverVer line, so stamping adds one to [Version]: later lines must still map back
sed -i -e '/^DriverVer/d' -e 's/^CopyFiles = File_Copy/CopyFiles = File_Copy, @unlisted.sys/' "$bad/kmdf.inx"
line=$(grep -n '@unlisted.sys' "$bad/kmdf.inx" | cut -d: -f1)
mkdir -p "$bad/kmdf"
cp "$DRIVERS/toaster.sys" "$bad/kmdf/kmdfdemo.sys"
cat >"$bad/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(bad NONE)
find_package(DrvSign REQUIRED)
add_signed_driver_package(kmdf INF kmdf.inx FILES kmdf/kmdfdemo.sys SIGN_MODE off
  DRIVER_VERSION 1.0.0.1 DRIVER_DATE 01/15/2024 KMDF_VERSION 1.15)
CM
check "a configure-time INF error names the source .inx and its line ($line)" exits_flat 1 \
  "drvsign: $bad/kmdf.inx:$line: CopyFiles names unlisted.sys, but \[SourceDisksFiles\] does not list it" \
  cmake -S "$bad" -B "$bad/b" "${CFG[@]}"
check "... and never the stamped copy in the build tree" lacks 'plan/kmdf\.inf' exits 1 cmake -S "$bad" -B "$bad/b2" "${CFG[@]}"
# a build-time problem (DriverVer is checked on the stamped INF) names the source too
sed -i 's/^CopyFiles = File_Copy, @unlisted.sys/CopyFiles = File_Copy/' "$bad/kmdf.inx"
sed -i 's|DRIVER_DATE 01/15/2024|DRIVER_DATE 01/15/2099|' "$bad/CMakeLists.txt"
check "a build-time problem: configure passes" cmake -S "$bad" -B "$bad/b3" "${CFG[@]}"
# stamping adds DriverVer just before the section after [Version]
dline=$(grep -n '^\[DestinationDirs\]' "$bad/kmdf.inx" | cut -d: -f1)
check "... the build names the source .inx, at the end of [Version] for the DriverVer stamping added" exits_flat 2 \
  "drvsign: $bad/kmdf.inx:$((dline - 1)): DriverVer set to a date in the future" cmake --build "$bad/b3"
check "... and never the package's copy" lacks 'kmdf-package/kmdf/kmdf\.inf' exits 2 cmake --build "$bad/b3"
}

run_behaviours "$@"
