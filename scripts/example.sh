#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: build drvsign, build the toaster test driver with
# mingw-w64, create a test-signing identity (as WDK test signing does), sign the driver with an
# embedded signature and page hashes, and verify it. Results go to build-example/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DRVSIGN_EXAMPLE_BUILD:-$root/build-example}

bash "$root/scripts/deps.sh" build
cmake -S "$root" -B "$out/drvsign" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDRVSIGN_BUILD_TESTS=OFF >/dev/null
cmake --build "$out/drvsign"
drvsign=$out/drvsign/drvsign

mkdir -p "$out/package/amd64"
x86_64-w64-mingw32-gcc -O2 -nostdlib -Wl,--subsystem,native -Wl,--entry,DriverEntry \
  -o "$out/package/amd64/toaster.sys" "$root/tests/drivers/toaster.c" -lntoskrnl
[ -f "$out/testcert/signing.pfx" ] || "$drvsign" testcert --out "$out/testcert" --subject "drvsign example test signing"
"$drvsign" sign --pfx "$out/testcert/signing.pfx" --page-hashes --description "Toaster (drvsign example)" \
  "$out/package/amd64/toaster.sys"
cp "$out/testcert/root.cer" "$out/package/root.cer"
"$drvsign" verify --ca "$out/testcert/root.cer" "$out/package/amd64/toaster.sys"
echo
echo "Signed driver: $out/package/amd64/toaster.sys"
echo "Test root for the test machine (certutil -addstore Root / TrustedPublisher): $out/package/root.cer"
