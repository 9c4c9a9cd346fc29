#!/usr/bin/env bash
# Builds the test binaries with mingw-w64:
#   toaster.sys    WDM driver, PE32+ (x64), native subsystem
#   toaster32.sys  the same driver as PE32 (x86)
#   helper.dll     x64 DLL whose size is not a multiple of 8 (5 trailing bytes)
#   helper32.dll   x86 DLL, as linked
#   tool.exe       x64 console EXE with 32150 bytes of overlay data after its last section
# Usage: build.sh SOURCE_DIR OUT_DIR
set -euo pipefail
src=$1
out=$2
example=$(cd "$src/../../example-project" && pwd) # the example's driver is the test driver
mkdir -p "$out"
cc64=x86_64-w64-mingw32-gcc
cc32=i686-w64-mingw32-gcc
common=(-O2 -Wall -Wextra -Werror -Wno-unused-parameter)

$cc64 "${common[@]}" -nostdlib -Wl,--subsystem,native -Wl,--entry,DriverEntry \
  -o "$out/toaster.sys" "$example/toaster/toaster.c" -lntoskrnl
$cc32 "${common[@]}" -nostdlib -Wl,--subsystem,native -Wl,--entry,_DriverEntry@8 \
  -o "$out/toaster32.sys" "$example/toaster/toaster.c" -lntoskrnl
$cc64 "${common[@]}" -shared -o "$out/helper.dll" "$src/helper.c"
printf 'pad!!' >> "$out/helper.dll"
$cc32 "${common[@]}" -shared -o "$out/helper32.dll" "$src/helper.c"
$cc64 "${common[@]}" -o "$out/tool.exe" "$src/tool.c"
# deterministic overlay, like an installer payload appended after the image
awk 'BEGIN { for (i = 0; i < 32150; i++) printf "%c", 65 + (i * 7) % 26 }' >> "$out/tool.exe"
