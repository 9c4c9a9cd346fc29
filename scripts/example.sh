#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: build the ToastPkg example project, a WDM driver and
# its class installer cross-compiled with mingw-w64, into a staged, catalogued, test-signed
# package and a signed Partner Center submission cabinet. drvsign itself is found in this tree
# and built for the host by the example's configure step. Results go to build-example/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DRVSIGN_EXAMPLE_BUILD:-$root/build-example}

bash "$root/scripts/deps.sh" build
cmake -S "$root/example-project" -B "$out"
cmake --build "$out"
