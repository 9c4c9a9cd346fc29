#!/usr/bin/env bash
# Sign PE files nobody here built: the mingw-w64 runtime DLLs that Debian ships.
. "$(dirname "$0")/../lib.sh"

real_dll() { # path (a glob): sign it with and without page hashes, and verify
  local dll arch name ph out
  for dll in $1; do # each match of the glob
  if [ ! -f "$dll" ]; then
    _report fail "$dll is missing (scripts/deps.sh test installs it)" /dev/null
    continue
  fi
  arch=$(basename "$(dirname "$(dirname "$dll")")")
  name="$arch/$(basename "$dll")"
  for ph in "" --page-hashes; do
    out="$WORK/$(echo "$name" | tr / _)${ph:+.ph}.dll"
    check "$name${ph:+ page-hashes}: sign" "$DRVSIGN" sign "${LEAF[@]}" $ph --out "$out" "$dll"
    check "$name${ph:+ page-hashes}: osslsigncode verify" oss_verify "$out"
    check "$name${ph:+ page-hashes}: pefile checksum" pefile_checksum_ok "$out"
    check "$name${ph:+ page-hashes}: drvsign verify" ds_verify "$out"
  done
  done
}
behaviour_libstdcxx() { real_dll '/usr/lib/gcc/x86_64-w64-mingw32/*-win32/libstdc++-6.dll'; }
behaviour_libgcc_s_seh() { real_dll '/usr/lib/gcc/x86_64-w64-mingw32/*-win32/libgcc_s_seh-1.dll'; }
behaviour_libwinpthread() { real_dll /usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll; }
behaviour_zlib1_x64() { real_dll /usr/x86_64-w64-mingw32/lib/zlib1.dll; }
behaviour_zlib1_x86() { real_dll /usr/i686-w64-mingw32/lib/zlib1.dll; }

run_behaviours "$@"
