#!/usr/bin/env bash
# Builds drvsign.exe for 64-bit Windows with mingw-w64 on Debian 12, runs it under wine on real
# inputs, and checks every output on the Linux side (README, "Building for Windows"):
#   1. OpenSSL and libdeflate from Debian's source packages (apt-get source), cross-built as
#      static libraries into a cache directory (once; later runs reuse them);
#   2. drvsign.exe, statically linked, -Wall -Wextra -Werror (cmake/toolchains/mingw-w64-x86_64.cmake);
#   3. a Linux drvsign from the same tree, the test drivers and the ToastPkg-style package;
#   4. under wine: --help, testcert, signing to a new file and in place (the lock, the temp
#      file beside the target, the replace), concurrent in-place --append, a catalog of the
#      package, a cabinet, a signed cabinet, verify; the Linux drvsign, osslsigncode and
#      cabextract check what it made, and what both builds make from the same inputs (same
#      --time, same key) must be byte-identical.
# Exits 1 when any step or check fails. Slow the first time (OpenSSL takes a quarter of an hour), so
# not part of scripts/test.sh or CI.
# Usage: scripts/windows-cross.sh [BUILD_DIR]   (default build-win/; needs root for apt-get)
# Environment: DRVSIGN_WIN_CACHE  where the cross-built dependencies live (default BUILD_DIR/deps)
#              DRVSIGN_LINUX      an existing Linux drvsign to verify with (default: built here)
#              JOBS               parallel build jobs (default 2)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$root/build-win}" && cd "${1:-$root/build-win}" && pwd)
cache=${DRVSIGN_WIN_CACHE:-$build/deps}
jobs=${JOBS:-2}
triplet=x86_64-w64-mingw32
toolchain=$root/cmake/toolchains/mingw-w64-x86_64.cmake
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
prefix=$cache/prefix

say() { printf '== %s\n' "$*"; }
die() { printf 'windows-cross: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# ---- 0. packages: drvsign's own (scripts/deps.sh test: mingw-w64, osslsigncode 2.8+, cabextract,
# cmake, ninja), plus wine to run the result and dpkg-dev for apt-get source ----
"$root/scripts/deps.sh" test
extra=(wine wine64 dpkg-dev make perl)
missing=()
for p in "${extra[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
for p in "${extra[@]}"; do installed "$p" || die "package $p could not be installed"; done
command -v wine >/dev/null || die "wine is not on PATH"

# ---- 1. dependencies from Debian's source packages ----
# apt-get source needs deb-src lines: the same mirror as the binary packages (debian.sources).
have_sources() { [ -n "$(apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/{print $2; exit}')" ]; }
if ! have_sources openssl || ! have_sources libdeflate; then
  src_list=/etc/apt/sources.list.d/drvsign-deb-src.sources
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  security=$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  say "adding deb-src entries ($src_list)"
  {
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "${mirror:-http://deb.debian.org/debian}"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n'
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "${security:-http://deb.debian.org/debian-security}"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  } | as_root tee "$src_list" >/dev/null
  as_root apt-get update -q
  have_sources openssl && have_sources libdeflate || die "apt-get update gave no source packages for openssl and libdeflate"
fi

# apt-get source PACKAGE into $cache/src; the newest version the mirror really has (a mirror
# snapshot can list a security version whose files it does not hold). Prints the source dir.
fetch_source() { # package
  local pkg=$1 v dir
  mkdir -p "$cache/src"
  for v in $(apt-cache showsrc "$pkg" | awk '/^Version:/{print $2}' | sort -rV | uniq); do
    dir=$(ls -d "$cache/src/$pkg-${v%%-*}" 2>/dev/null || true)
    if [ -n "$dir" ] && [ -f "$dir/.drvsign-fetched" ]; then echo "$dir"; return 0; fi
    if (cd "$cache/src" && apt-get source -q "$pkg=$v" >&2); then
      dir=$cache/src/$pkg-${v%%-*}
      # the upstream version without an epoch or Debian revision names the directory
      [ -d "$dir" ] || dir=$(ls -d "$cache/src/$pkg-"*/ | head -n1)
      touch "$dir/.drvsign-fetched"
      echo "${dir%/}"
      return 0
    fi
  done
  die "apt-get source $pkg failed for every version the mirror lists"
}

if [ ! -f "$prefix/.openssl-done" ]; then
  ossl_src=$(fetch_source openssl)
  say "OpenSSL for $triplet from $ossl_src (static; this takes a while)"
  rm -rf "$cache/openssl-build"
  mkdir -p "$cache/openssl-build"
  (cd "$cache/openssl-build" &&
    # no-module: the legacy provider (old PFX files' RC2) is built into libcrypto, not a DLL
    # looked for at a build-machine path. The directories drvsign.exe looks in for
    # openssl.cnf (which can load code), engines and modules: one only administrators may
    # write, as in OpenSSL's own Windows builds; Configure takes no Windows path for them
    # (it puts the prefix before it), so make gets them. The default, /usr/local/ssl, means
    # \usr\local\ssl on the current drive, which any user may create (CVE-2019-1552).
    ssldir="C:/Program Files/Common Files/SSL"
    dirs=(OPENSSLDIR="$ssldir" ENGINESDIR="$ssldir/engines-3" MODULESDIR="$ssldir/ossl-modules")
    nice -n 19 "$ossl_src/Configure" mingw64 no-shared no-module no-tests --cross-compile-prefix=$triplet- \
      --prefix="$prefix" --libdir=lib >configure.log &&
    nice -n 19 make -j"$jobs" build_libs "${dirs[@]}" >build.log 2>&1 &&
    nice -n 19 make install_dev "${dirs[@]}" >install.log 2>&1) ||
    die "OpenSSL build failed (logs in $cache/openssl-build)"
  touch "$prefix/.openssl-done"
fi
if [ ! -f "$prefix/.libdeflate-done" ]; then
  deflate_src=$(fetch_source libdeflate)
  say "libdeflate for $triplet from $deflate_src (static)"
  # libdeflate 1.14 (bookworm) has no CMake build yet: its Makefile knows mingw-w64
  rm -rf "$cache/libdeflate-build"
  cp -a "$deflate_src" "$cache/libdeflate-build"
  nice -n 19 make -C "$cache/libdeflate-build" -j"$jobs" CC=$triplet-gcc AR=$triplet-ar libdeflatestatic.lib \
    >"$cache/libdeflate-build.log" 2>&1 || die "libdeflate build failed ($cache/libdeflate-build.log)"
  mkdir -p "$prefix/lib" "$prefix/include"
  cp "$cache/libdeflate-build/libdeflatestatic.lib" "$prefix/lib/libdeflate.a"
  cp "$cache/libdeflate-build/libdeflate.h" "$prefix/include/"
  touch "$prefix/.libdeflate-done"
fi

# ---- 2. drvsign.exe ----
say "drvsign.exe"
nice -n 19 cmake -S "$root" -B "$build/exe" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DOPENSSL_ROOT_DIR="$prefix" -DOPENSSL_USE_STATIC_LIBS=TRUE \
  -DCMAKE_PREFIX_PATH="$prefix" -DDRVSIGN_BUILD_TESTS=OFF -DDRVSIGN_WERROR=ON >"$build/exe-configure.log" ||
  die "configuring drvsign.exe failed ($build/exe-configure.log)"
nice -n 19 cmake --build "$build/exe" -j"$jobs" >"$build/exe-build.log" 2>&1 ||
  { tail -n 30 "$build/exe-build.log" >&2; die "building drvsign.exe failed ($build/exe-build.log)"; }
exe=$build/exe/drvsign.exe
[ -f "$exe" ] || die "no drvsign.exe in $build/exe"
# statically linked: no DLL beyond Windows' own
dlls=$($triplet-objdump -p "$exe" | awk '/DLL Name:/{print tolower($3)}' | sort -u)
for d in $dlls; do
  case $d in
    kernel32.dll | advapi32.dll | user32.dll | ws2_32.dll | crypt32.dll | msvcrt.dll | bcrypt.dll) ;;
    *) die "drvsign.exe needs $d, which Windows does not have (not statically linked?)" ;;
  esac
done

# OpenSSL's directories are Windows paths, none on the build machine
strings "$exe" >"$build/exe-strings.txt"
grep -q "^C:/Program Files/Common Files/SSL" "$build/exe-strings.txt" || die "drvsign.exe lacks OpenSSL's Windows directories"
if grep -qF "$prefix" "$build/exe-strings.txt"; then die "drvsign.exe names the build machine's $prefix"; fi

# ---- 3. the Linux drvsign, the test drivers, the package ----
if [ -n "${DRVSIGN_LINUX:-}" ]; then
  linux=$DRVSIGN_LINUX
else
  say "Linux drvsign"
  nice -n 19 cmake -S "$root" -B "$build/linux" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DDRVSIGN_BUILD_TESTS=OFF >"$build/linux-configure.log" || die "configuring the Linux build failed"
  nice -n 19 cmake --build "$build/linux" -j"$jobs" --target drvsign >"$build/linux-build.log" 2>&1 ||
    die "building the Linux drvsign failed ($build/linux-build.log)"
  linux=$build/linux/drvsign
fi
[ -x "$linux" ] || die "no Linux drvsign at $linux"
inputs=$build/inputs
rm -rf "$inputs"
bash "$root/tests/drivers/build.sh" "$root/tests/drivers" "$inputs/drivers"
bash "$root/tests/toastpkg/build.sh" "$root/tests/toastpkg" "$root/tests/drivers" "$inputs/toastpkg"
# a PE past the mapping threshold and several 4 MB windows: 9 MB of overlay after tool.exe
cp "$inputs/drivers/tool.exe" "$inputs/big.exe"
head -c 9437184 /dev/zero | tr '\0' 'B' >>"$inputs/big.exe"

# ---- 4. the smoke test under wine ----
export WINEDEBUG=-all WINEPREFIX=$cache/wineprefix WINEDLLOVERRIDES="mscoree,mshtml="
# drvsign.exe in a time zone that is neither UTC nor a whole hour away, so that anything that
# takes local time where the Linux build takes UTC makes the outputs differ
win() { (cd "$work" && TZ=America/St_Johns wine "$exe" "$@"); }
winpath() { winepath -w "$1" 2>/dev/null; } # a Windows path (Z:\...) with backslashes
failures=0
check() { # what, command...
  local what=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then
    printf 'ok   %s\n' "$what"
  else
    printf 'FAIL %s (exit %s)\n' "$what" "$?"
    sed 's/^/     /' "$work/last.out" | tail -n 20
    failures=$((failures + 1))
  fi
}
check_exit() { # what, expected status, command...
  local what=$1 want=$2 got=0
  shift 2
  "$@" >"$work/last.out" 2>&1 || got=$?
  if [ "$got" = "$want" ]; then
    printf 'ok   %s (exit %s)\n' "$what" "$got"
  else
    printf 'FAIL %s (exit %s, wanted %s)\n' "$what" "$got" "$want"
    sed 's/^/     /' "$work/last.out" | tail -n 20
    failures=$((failures + 1))
  fi
}
no_temp_left() { ! compgen -G "$1/*.ds??????" >/dev/null; }
oss() { osslsigncode verify -CAfile "$id/root.pem" "$@"; }

work=$build/smoke
rm -rf "$work"
mkdir -p "$work/w" "$work/l"
wineboot -i >/dev/null 2>&1 || true # a new prefix, made before the first timed-out-looking run
say "smoke test under $(wine --version)"
check "drvsign.exe --help" bash -c "cd '$work' && wine '$exe' --help | grep -q 'testcert'"
check_exit "drvsign.exe with an unknown command is a usage error" 2 win no-such-command
check "testcert (Windows path)" win testcert --out "$(winpath "$work/id")" --subject "drvsign wine test"
id=$work/id
check "... root.pem and signing.pfx exist" test -s "$id/root.pem" -a -s "$id/signing.pfx"
check "openssl reads the PFX testcert wrote" openssl pkcs12 -in "$id/signing.pfx" -passin pass: -nokeys -noout
pfx=(--pfx "$(winpath "$id/signing.pfx")")
lpfx=(--pfx "$id/signing.pfx")

# signing to a new file, each test binary, and the same with the Linux build
sums() { (cd "$1" && sha256sum -- *); }
inputs_sum=$(sums "$inputs/drivers")
for f in toaster.sys toaster32.sys helper.dll helper32.dll tool.exe; do
  check "sign $f to a new file" win sign --quiet "${pfx[@]}" --out "$(winpath "$work/w/$f")" "$(winpath "$inputs/drivers/$f")"
  "$linux" sign --quiet "${lpfx[@]}" --out "$work/l/$f" "$inputs/drivers/$f"
  check "... osslsigncode verifies $f" oss -in "$work/w/$f"
  check "... the Linux drvsign verifies $f" "$linux" verify --quiet --ca "$id/root.pem" "$work/w/$f"
  check "... byte-identical to the Linux build's" cmp "$work/w/$f" "$work/l/$f"
done
check "the inputs signed to new files are unchanged" test "$inputs_sum" = "$(sums "$inputs/drivers")"
check "sign big.exe (9 MB, mapped in windows)" win sign --quiet "${pfx[@]}" --out "$(winpath "$work/w/big.exe")" "$(winpath "$inputs/big.exe")"
"$linux" sign --quiet "${lpfx[@]}" --out "$work/l/big.exe" "$inputs/big.exe"
check "... byte-identical to the Linux build's" cmp "$work/w/big.exe" "$work/l/big.exe"
check "... osslsigncode verifies it" oss -in "$work/w/big.exe"

# in place: the lock, the temp file beside the target, the replace of an open file
mkdir -p "$work/w/inplace" "$work/l/inplace"
cp "$inputs/drivers/toaster.sys" "$inputs/drivers/tool.exe" "$work/w/inplace/"
cp "$inputs/drivers/toaster.sys" "$inputs/drivers/tool.exe" "$work/l/inplace/"
check "sign toaster.sys in place (relative path)" bash -c "cd '$work/w/inplace' && wine '$exe' sign --quiet --pfx '$(winpath "$id/signing.pfx")' toaster.sys"
check "sign tool.exe in place (Windows path)" win sign --quiet "${pfx[@]}" "$(winpath "$work/w/inplace/tool.exe")"
"$linux" sign --quiet "${lpfx[@]}" "$work/l/inplace/toaster.sys" "$work/l/inplace/tool.exe"
check "... no temp file left beside them" no_temp_left "$work/w/inplace"
for f in toaster.sys tool.exe; do
  check "... $f: byte-identical to the Linux build's" cmp "$work/w/inplace/$f" "$work/l/inplace/$f"
  check "... $f: osslsigncode verifies it" oss -in "$work/w/inplace/$f"
done
check "--append in place (a nested SHA-1 signature)" win sign --quiet "${pfx[@]}" --append --digest sha1 "$(winpath "$work/w/inplace/tool.exe")"
"$linux" sign --quiet "${lpfx[@]}" --append --digest sha1 "$work/l/inplace/tool.exe"
check "... byte-identical to the Linux build's" cmp "$work/w/inplace/tool.exe" "$work/l/inplace/tool.exe"
check "... osslsigncode verifies both signatures" oss -in "$work/w/inplace/tool.exe"
# two runs appending to one file at once take turns on the lock: both signatures survive
cp "$inputs/drivers/helper.dll" "$work/w/inplace/race.dll"
win sign --quiet "${pfx[@]}" "$(winpath "$work/w/inplace/race.dll")" >/dev/null 2>&1
(cd "$work" && wine "$exe" sign --quiet "${pfx[@]}" --append "$(winpath "$work/w/inplace/race.dll")") >"$work/race1.out" 2>&1 &
race1=$!
(cd "$work" && wine "$exe" sign --quiet "${pfx[@]}" --append "$(winpath "$work/w/inplace/race.dll")") >"$work/race2.out" 2>&1 &
race2=$!
r1=0 r2=0
wait $race1 || r1=$?
wait $race2 || r2=$?
check "two concurrent in-place --append runs both succeed" test "$r1:$r2" = 0:0
check "... and the file holds all three signatures" bash -c "'$linux' verify --ca '$id/root.pem' '$work/w/inplace/race.dll' | grep -q 'verified (pe, 3 signatures'"
check "... which osslsigncode verifies" oss -in "$work/w/inplace/race.dll"
check "... no temp file left" no_temp_left "$work/w/inplace"
# a killed run leaves nothing behind and the input as it was: the temp file is deleted when
# its last handle closes. The run is held midway by a timestamp server that never answers.
cp "$inputs/drivers/toaster.sys" "$work/w/inplace/killed.sys"
killed_sum=$(sha256sum <"$work/w/inplace/killed.sys")
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)  # read nothing, answer nothing
' >"$work/silent.port" &
silent=$!
for _ in $(seq 50); do [ -s "$work/silent.port" ] && break; sleep 0.1; done
(cd "$work" && exec wine "$exe" sign --quiet "${pfx[@]}" --timestamp "http://127.0.0.1:$(cat "$work/silent.port")/" \
  --timestamp-timeout 120 "$(winpath "$work/w/inplace/killed.sys")") >"$work/killed.out" 2>&1 &
victim=$!
seen=no
for _ in $(seq 300); do
  if compgen -G "$work/w/inplace/killed.sys.ds??????" >/dev/null; then seen=yes; break; fi
  sleep 0.1
done
kill -9 $victim 2>/dev/null || true
wait $victim 2>/dev/null || true
kill $silent 2>/dev/null || true
wait $silent 2>/dev/null || true
sleep 1 # wineserver closes the dead process's handles
check "a run killed midway had its temp file beside the target" test $seen = yes
check "... which is gone after kill -9" no_temp_left "$work/w/inplace"
check "... and the input is as it was" test "$killed_sum" = "$(sha256sum <"$work/w/inplace/killed.sys")"
check_exit "signing the NUL device is refused at once (not a regular file)" 1 win sign --quiet "${pfx[@]}" NUL
check_exit "signing a missing file fails" 1 win sign --quiet "${pfx[@]}" "$(winpath "$work/w/no-such.sys")"
check "... and leaves no temp file" no_temp_left "$work/w"

# the catalog of the package, signed, with the same --time on both sides
cp -a "$inputs/toastpkg" "$work/w/pkg"
cp -a "$inputs/toastpkg" "$work/l/pkg"
os=XP_X86,7_X86,10_X86,7_X64,10_X64
check "catalog --driver (Windows path)" win catalog --quiet --driver "$(winpath "$work/w/pkg")" --os $os --time 1700000000
"$linux" catalog --quiet --driver "$work/l/pkg" --os $os --time 1700000000
cats=$(cd "$work/l/pkg" && ls ./*.cat)
check "... the Linux build wrote catalogs" test -n "$cats"
for c in $cats; do
  c=${c#./}
  check "... $c: byte-identical to the Linux build's" cmp "$work/w/pkg/$c" "$work/l/pkg/$c"
  check "sign $c in place" win sign --quiet "${pfx[@]}" "$(winpath "$work/w/pkg/$c")"
  "$linux" sign --quiet "${lpfx[@]}" "$work/l/pkg/$c"
  check "... signed $c: byte-identical to the Linux build's" cmp "$work/w/pkg/$c" "$work/l/pkg/$c"
  check "... osslsigncode verifies $c" oss -in "$work/w/pkg/$c"
done
check "osslsigncode -catalog: amd64/toaster.sys is in the catalog" bash -c \
  "for c in '$work'/w/pkg/*.cat; do osslsigncode verify -CAfile '$id/root.pem' -catalog \"\$c\" -in '$work/w/pkg/amd64/toaster.sys' && exit 0; done; exit 1"
check "the Linux drvsign verifies the package" "$linux" verify --quiet --ca "$id/root.pem" --package "$work/w/pkg"
check "drvsign.exe verifies the package" win verify --quiet --ca "$(winpath "$id/root.pem")" --package "$(winpath "$work/w/pkg")"
check "drvsign.exe verifies what the Linux build signed" win verify --quiet --ca "$(winpath "$id/root.pem")" "$(winpath "$work/l/inplace/tool.exe")"
check "... and the Linux build what drvsign.exe signed" "$linux" verify --quiet --ca "$id/root.pem" "$work/w/inplace/tool.exe"
check "catalog --files (makecat mode)" win catalog --quiet --files "$(winpath "$work/w/pkg/toastpkg.inf")" "$(winpath "$work/w/pkg/amd64/toaster.sys")" --os 10_X64 --time 1700000000 --out "$(winpath "$work/w/files.cat")"
"$linux" catalog --quiet --files "$work/w/pkg/toastpkg.inf" "$work/w/pkg/amd64/toaster.sys" --os 10_X64 --time 1700000000 --out "$work/l/files.cat"
check "... byte-identical to the Linux build's" cmp "$work/w/files.cat" "$work/l/files.cat"

# cabinets of the package: MSZIP, stored, and signed in one step
for comp in mszip none; do
  check "cab --compression $comp" win cab --quiet --compression $comp --time 1700000000 --out "$(winpath "$work/w/pkg-$comp.cab")" "$(winpath "$work/w/pkg")"
  "$linux" cab --quiet --compression $comp --time 1700000000 --out "$work/l/pkg-$comp.cab" "$work/l/pkg"
  check "... cabextract -t" cabextract -q -t "$work/w/pkg-$comp.cab"
  check "... byte-identical to the Linux build's" cmp "$work/w/pkg-$comp.cab" "$work/l/pkg-$comp.cab"
done
check "cab, signed in one step" win cab --quiet --time 1700000000 "${pfx[@]}" --out "$(winpath "$work/w/signed.cab")" "$(winpath "$work/w/pkg")"
"$linux" cab --quiet --time 1700000000 "${lpfx[@]}" --out "$work/l/signed.cab" "$work/l/pkg"
check "... cabextract -t" cabextract -q -t "$work/w/signed.cab"
check "... osslsigncode verifies it" oss -in "$work/w/signed.cab"
check "... the Linux drvsign verifies it" "$linux" verify --quiet --ca "$id/root.pem" "$work/w/signed.cab"
check "... byte-identical to the Linux build's" cmp "$work/w/signed.cab" "$work/l/signed.cab"
# timestamps over HTTP (OSSL_HTTP on winsock) from the test TSA, with the test PKI's leaf as
# PEM files and an encrypted key
bash "$root/tests/pki/make-pki.sh" "$work/pki" >/dev/null
trap 'bash "$root/tests/tsa/fixture.sh" stop "$work/pki" "$work/tsa" >/dev/null 2>&1; wineserver -k 2>/dev/null || true' EXIT
bash "$root/tests/tsa/fixture.sh" start "$work/pki" "$work/tsa" >/dev/null
read -r tsa_port _ <"$work/tsa/port"
tsa=http://127.0.0.1:$tsa_port
leaf=(--cert "$(winpath "$work/pki/leaf-chain.pem")" --key "$(winpath "$work/pki/leaf-encrypted.key")"
      --password-file "$(winpath "$work/pki/password.txt")")
oss_ts() { # file kind
  osslsigncode verify -CAfile "$work/pki/root.pem" -TSA-CAfile "$work/pki/root.pem" -in "$1" >"$work/oss-ts.log" 2>&1 &&
    grep -q 'Timestamp Server Signature verification: ok' "$work/oss-ts.log" &&
    "$linux" verify --ca "$work/pki/root.pem" "$1" | grep -Eq "timestamp 20[0-9-]+T.*\($2\)"
}
for kind in rfc3161 legacy; do
  if [ $kind = rfc3161 ]; then opt=(--timestamp "$tsa/rfc3161"); else opt=(--timestamp-legacy "$tsa/legacy"); fi
  check "$kind: sign and timestamp toaster.sys (PEM chain, encrypted key)" win sign --quiet "${leaf[@]}" "${opt[@]}" \
    --timestamp-wait 0 --timestamp-timeout 20 --out "$(winpath "$work/w/ts-$kind.sys")" "$(winpath "$inputs/drivers/toaster.sys")"
  check "... osslsigncode and the Linux drvsign verify the $kind timestamp" oss_ts "$work/w/ts-$kind.sys" $kind
done
# a PFX as older Windows exported them (RC2-40 and 3DES): OpenSSL's legacy provider, built in
openssl pkcs12 -export -legacy -inkey "$work/pki/leaf.key" -in "$work/pki/leaf.pem" \
  -certfile "$work/pki/intermediate.pem" -out "$work/legacy.pfx" -passout file:"$work/pki/password.txt"
check "sign with a legacy (RC2-40/3DES) PFX" win sign --quiet --pfx "$(winpath "$work/legacy.pfx")" \
  --password-file "$(winpath "$work/pki/password.txt")" --out "$(winpath "$work/w/legacy-pfx.sys")" \
  "$(winpath "$inputs/drivers/toaster.sys")"
check "... osslsigncode verifies it" osslsigncode verify -CAfile "$work/pki/root.pem" -in "$work/w/legacy-pfx.sys"
cp "$work/w/pkg/tstamd64.cat" "$work/w/ts.cat"
check "timestamp a signed catalog in place" win timestamp --quiet --timestamp "$tsa/rfc3161" --timestamp-wait 0 \
  --timestamp-timeout 20 "$(winpath "$work/w/ts.cat")"
check "... osslsigncode and the Linux drvsign verify it" bash -c "osslsigncode verify -CAfile '$id/root.pem' -TSA-CAfile '$work/pki/root.pem' -in '$work/w/ts.cat' | grep -q 'Timestamp Server Signature verification: ok'"

check "no temp file left anywhere" bash -c "! find '$work/w' -name '*.ds??????' | grep -q ."

wineserver -k 2>/dev/null || true
if [ "$failures" -ne 0 ]; then
  echo "windows-cross: $failures check(s) failed"
  exit 1
fi
echo "windows-cross: every check passed"
