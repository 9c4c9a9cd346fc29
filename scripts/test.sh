#!/usr/bin/env bash
# The whole test suite, as CI runs it, on Debian 12:
#   1. installs any missing Debian packages (scripts/deps.sh test);
#   2. gcc build, warnings as errors, every CTest test;
#   3. clang build with AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer
#      targets, warnings as errors, every CTest test again plus short fuzzing runs.
# Build trees go to build-test/ (override with DRVSIGN_TEST_BUILD).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DRVSIGN_TEST_BUILD:-$root/build-test}
jobs=$(nproc 2>/dev/null || echo 2)

bash "$root/scripts/deps.sh" test

echo "== gcc, -Werror =="
cmake -S "$root" -B "$build/gcc" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=gcc -DDRVSIGN_WERROR=ON
cmake --build "$build/gcc" -j "$jobs"
ctest --test-dir "$build/gcc" --output-on-failure -j "$jobs"

echo "== clang, ASan + UBSan + libFuzzer, -Werror =="
cmake -S "$root" -B "$build/clang-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DDRVSIGN_WERROR=ON -DDRVSIGN_SANITIZE=ON -DDRVSIGN_FUZZ=ON
cmake --build "$build/clang-asan" -j "$jobs"
# Sanitizer findings exit 86/87, never 1, so no test that expects exit 1 can mistake one.
LSAN_OPTIONS=suppressions="$root/tests/lsan.supp" \
ASAN_OPTIONS=detect_leaks=1:exitcode=86:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
  ctest --test-dir "$build/clang-asan" --output-on-failure -j "$jobs"
