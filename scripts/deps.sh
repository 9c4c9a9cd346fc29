#!/usr/bin/env bash
# Installs the Debian packages drvsign needs (Debian 12 "bookworm" and later), whatever is
# already on the machine, then checks that every one of them and every tool is really there.
#   scripts/deps.sh build   what building drvsign and the example needs
#   scripts/deps.sh test    that, plus the independent verifiers, both PKCS#11 backends and the
#                           sanitizer toolchain
# Run as root (or with sudo available). Safe to run again: when everything is there it installs
# nothing. It fails, saying what is missing, when something cannot be installed.
set -euo pipefail

set_name=${1:-test}
case $set_name in
  build | test) ;;
  *) echo "usage: scripts/deps.sh [build|test]" >&2; exit 2 ;;
esac
build_pkgs=(build-essential cmake ninja-build pkg-config openssl libssl-dev libarchive-dev zlib1g-dev
            gcc-mingw-w64-x86-64 gcc-mingw-w64-i686)
build_pkgs+=(libdeflate-dev) # MSZIP compression for cabinets
test_pkgs=(clang libclang-rt-14-dev python3 python3-pefile libz-mingw-w64 faketime file git strace
           cabextract gcab libarchive-tools softhsm2 opensc p11-kit libengine-pkcs11-openssl
           gcc-mingw-w64-x86-64-win32-runtime mingw-w64-x86-64-dev)
# Two test packages need more than bookworm's own archive has: osslsigncode 2.8+ checks catalogs
# (-catalog; bookworm has 2.5), and OpenSSL 3's pkcs11-provider is not in bookworm at all.
# bookworm-backports has both (osslsigncode 2.9).
min_osslsigncode=2.8

pkgs=("${build_pkgs[@]}")
[ "$set_name" = test ] && pkgs+=("${test_pkgs[@]}")

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
# installed, whatever its selection: a package on hold ("hold ok installed") is installed too
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
version_at_least() { # have want
  [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}
osslsigncode_version() { osslsigncode --version 2>/dev/null | awk 'NR==1{sub(/,$/, "", $2); print $2}'; }
osslsigncode_ok() { command -v osslsigncode >/dev/null 2>&1 && version_at_least "$(osslsigncode_version)" "$min_osslsigncode"; }
provider_installed() { installed pkcs11-provider; }
# the upstream version apt would install from the configured sources ("" when there is none);
# LC_ALL=C: apt translates "Candidate:"
candidate() { LC_ALL=C apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {split($2, v, "-"); sub(/^[0-9]+:/, "", v[1]); print v[1]}'; }

# Everything that must be there afterwards; prints one line per missing piece.
missing_pieces() {
  local p t
  for p in "${pkgs[@]}"; do installed "$p" || echo "package $p"; done
  for t in cmake ninja pkg-config gcc openssl x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc; do
    command -v "$t" >/dev/null 2>&1 || echo "tool $t"
  done
  [ "$set_name" = test ] || return 0
  for t in clang cabextract gcab bsdtar softhsm2-util pkcs11-tool faketime file git; do
    command -v "$t" >/dev/null 2>&1 || echo "tool $t"
  done
  osslsigncode_ok || echo "osslsigncode $min_osslsigncode or later (found: $(osslsigncode_version || true))"
  provider_installed || echo "package pkcs11-provider (OpenSSL 3's PKCS#11 provider)"
  compgen -G "/usr/lib/*/ossl-modules/pkcs11.so" >/dev/null || echo "the pkcs11-provider module (ossl-modules/pkcs11.so)"
  compgen -G "/usr/lib/*/engines-3/pkcs11.so" >/dev/null || echo "libp11's engine (engines-3/pkcs11.so)"
  /usr/bin/python3 -c 'import pefile' 2>/dev/null || echo "python3-pefile for /usr/bin/python3"
  # the tests fetch Microsoft-signed files with npm; any npm will do (Debian's, or nodejs's own)
  command -v npm >/dev/null 2>&1 || echo "tool npm"
  return 0
}

if [ -z "$(missing_pieces)" ]; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/drvsign-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
apt_get() { # apt-get with its output kept, and shown when it fails
  if ! as_root apt-get "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "drvsign: apt-get $* failed" >&2
    exit 1
  fi
}

# The Debian archive URI apt already uses for this release, so backports comes from the same
# mirror (deb822 .sources files first, then one-line sources.list).
debian_archive_uri() {
  local codename=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v c="$codename" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri=""; ok=0; next }
      tolower($1) == "uris:"   { uri=$2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == c) ok=1 }
      END { if (uri != "" && ok) print uri }' "$f"
  done | head -n1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [arch=amd64 signed-by=...] URI SUITE ...: the options, if any, come before the URI
    awk -v c="$codename" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == c) { print $i; exit }
      }' "$f"
  done | head -n1
}
has_backports_source() { # codename
  grep -qsE "^[^#]*[[:space:]]$1-backports([[:space:]]|$)" /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources
}

echo "drvsign: installing what is missing:" >&2
missing_pieces | sed 's/^/  /' >&2
apt_get update -qq

want=()
for p in "${pkgs[@]}"; do installed "$p" || want+=("$p"); done
if [ "$set_name" = test ]; then
  command -v npm >/dev/null 2>&1 || want+=(npm)
  need_backports=0
  if ! osslsigncode_ok; then
    if version_at_least "$(candidate osslsigncode)" "$min_osslsigncode"; then
      want+=(osslsigncode)
    else
      need_backports=1
    fi
  fi
  if ! provider_installed; then
    if [ -n "$(candidate pkcs11-provider)" ]; then want+=(pkcs11-provider); else need_backports=1; fi
  fi
  if [ $need_backports -eq 1 ]; then
    . /etc/os-release
    backports="${VERSION_CODENAME:?cannot tell the Debian release from /etc/os-release}-backports"
    if ! has_backports_source "$VERSION_CODENAME"; then
      uri=$(debian_archive_uri "$VERSION_CODENAME" | head -n1)
      if [ -z "$uri" ]; then
        echo "drvsign: cannot find the Debian archive in apt's sources to add $backports" >&2
        exit 1
      fi
      echo "drvsign: adding $backports (for osslsigncode >= $min_osslsigncode and pkcs11-provider)" >&2
      as_root tee /etc/apt/sources.list.d/drvsign-backports.sources >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: $backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      apt_get update -qq
    fi
    # name the suite for these two only: everything else keeps coming from the release itself
    osslsigncode_ok || want+=("osslsigncode/$backports")
    provider_installed || want+=("pkcs11-provider/$backports")
  fi
fi
if [ ${#want[@]} -gt 0 ]; then
  apt_get install -y -qq --no-install-recommends "${want[@]}"
fi

still=$(missing_pieces)
if [ -n "$still" ]; then
  echo "drvsign: still missing after installing:" >&2
  printf '%s\n' "$still" | sed 's/^/  /' >&2
  exit 1
fi
echo "drvsign: every package and tool for '$set_name' is installed" >&2
