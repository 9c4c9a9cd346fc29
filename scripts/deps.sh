#!/usr/bin/env bash
# Installs the Debian 12 packages drvsign needs, and only those that are missing.
#   scripts/deps.sh build   what building drvsign and the example needs
#   scripts/deps.sh test    that, plus the independent verifiers and sanitizer toolchain
# Run as root (or with sudo available). Safe to run again: it installs nothing twice.
set -euo pipefail

set_name=${1:-test}
build_pkgs=(build-essential cmake ninja-build pkg-config openssl libssl-dev libarchive-dev zlib1g-dev
            gcc-mingw-w64-x86-64 gcc-mingw-w64-i686)
build_pkgs+=(libdeflate-dev) # MSZIP compression for cabinets
test_pkgs=(clang libclang-rt-14-dev python3 python3-pefile libz-mingw-w64 faketime strace
           cabextract gcab libarchive-tools softhsm2 opensc p11-kit libengine-pkcs11-openssl
           gcc-mingw-w64-x86-64-win32-runtime mingw-w64-x86-64-dev)
# osslsigncode 2.8+ checks catalogs (-catalog); bookworm itself has 2.5, backports has 2.9.
min_osslsigncode=2.8

pkgs=("${build_pkgs[@]}")
[ "$set_name" = test ] && pkgs+=("${test_pkgs[@]}")

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

osslsigncode_ok() {
  command -v osslsigncode >/dev/null 2>&1 || return 1
  local v
  v=$(osslsigncode --version 2>/dev/null | awk 'NR==1{print $2}')
  [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$min_osslsigncode" "$v" | sort -V | head -n1)" = "$min_osslsigncode" ]
}

need_osslsigncode=0
[ "$set_name" = test ] && ! osslsigncode_ok && need_osslsigncode=1

need_provider=0
[ "$set_name" = test ] && ! dpkg-query -W -f='${Status}' pkcs11-provider 2>/dev/null |
  grep -q "install ok installed" && need_provider=1

if [ ${#missing[@]} -eq 0 ] && [ $need_osslsigncode -eq 0 ] && [ $need_provider -eq 0 ]; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() { [ $apt_updated -eq 1 ] || { as_root apt-get update -qq; apt_updated=1; }; }

if [ ${#missing[@]} -gt 0 ]; then
  echo "drvsign: installing ${missing[*]}" >&2
  apt_update
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
    awk -v c="$codename" '$1 == "deb" && $3 == c { print $2; exit }' "$f"
  done | head -n1
}

if [ $need_osslsigncode -eq 1 ]; then
  apt_update
  if ! apt-cache policy osslsigncode | awk '/Candidate:/{print $2}' |
       awk -v m="$min_osslsigncode" '{ split($1, a, "-"); print a[1] "\n" m }' | sort -V | head -n1 |
       grep -qx "$min_osslsigncode"; then
    . /etc/os-release
    uri=$(debian_archive_uri "$VERSION_CODENAME" | head -n1)
    if [ -z "$uri" ]; then
      echo "drvsign: cannot find the Debian archive in apt's sources to add ${VERSION_CODENAME}-backports" >&2
      exit 1
    fi
    echo "drvsign: adding ${VERSION_CODENAME}-backports for osslsigncode >= $min_osslsigncode" >&2
    as_root tee /etc/apt/sources.list.d/drvsign-backports.sources >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: ${VERSION_CODENAME}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends -t "${VERSION_CODENAME}-backports" osslsigncode >/dev/null
  else
    as_root apt-get install -y -qq --no-install-recommends osslsigncode >/dev/null
  fi
  osslsigncode_ok || { echo "drvsign: osslsigncode >= $min_osslsigncode could not be installed" >&2; exit 1; }
fi

# OpenSSL 3's PKCS#11 provider: in the release from Debian 13, in backports for Debian 12.
# Without it the PKCS#11 tests run on libp11's engine only, and say so.
if [ $need_provider -eq 1 ]; then
  apt_update
  if ! as_root apt-get install -y -qq --no-install-recommends pkcs11-provider >/dev/null 2>&1; then
    . /etc/os-release
    if [ -f /etc/apt/sources.list.d/drvsign-backports.sources ]; then
      as_root apt-get install -y -qq --no-install-recommends -t "${VERSION_CODENAME}-backports" \
        pkcs11-provider >/dev/null 2>&1 || echo "drvsign: pkcs11-provider is not available" >&2
    fi
  fi
fi
