#!/usr/bin/env bash
# Stages the ToastPkg-style test package: the INF, its tag file, and per-architecture
# binaries built with mingw-w64 where SourceDisksNames puts them.
# Usage: build.sh SOURCE_DIR DRIVER_SOURCE_DIR OUT_DIR
set -euo pipefail
src=$1 drivers=$2 out=$3
example=$(cd "$src/../../example-project" && pwd)
rm -rf "$out"
mkdir -p "$out/i386" "$out/amd64"
cp "$src/toastpkg.inf" "$out/"
: > "$out/toastpkg.tag"
flags=(-O2 -Wall -Wextra -Werror)
for arch in i386 amd64; do
  if [ $arch = i386 ]; then cc=i686-w64-mingw32-gcc entry=_DriverEntry@8; else cc=x86_64-w64-mingw32-gcc entry=DriverEntry; fi
  $cc "${flags[@]}" -nostdlib -Wl,--subsystem,native -Wl,--entry,$entry -o "$out/$arch/toaster.sys" \
    "$example/toaster/toaster.c" -lntoskrnl
  $cc "${flags[@]}" -shared -o "$out/$arch/tostrcls.dll" "$example/tostrcls/tostrcls.c" -lsetupapi
  $cc "${flags[@]}" -shared -o "$out/$arch/tostrco2.dll" "$src/tostrco2.c" -lsetupapi
done
