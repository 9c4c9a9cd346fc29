#!/usr/bin/env bash
# CTest fixture: real Microsoft-signed files from the npm registry, unpacked into OUTDIR (the
# build tree, never git). Each tarball's sha256 is pinned here and checked before it is used;
# a tarball already in OUTDIR with the right digest is not fetched again.
#   signtool@1.0.0   signtool.exe, makecat.exe, wintrust.dll, mssign32.dll (x86, x64), 2017:
#                    SHA-1 + legacy counter-signature, nested SHA-256 + RFC 3161 token
#   nuget-exe@5.8.0  nuget.exe, 2020: SHA-256 + RFC 3161 token
# Usage: fetch.sh OUTDIR
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
fetch() { # spec tarball sha256
  local spec=$1 tarball=$2 want=$3
  if ! { [ -f "$tarball" ] && echo "$want  $tarball" | sha256sum -c --status; }; then
    rm -f "$tarball"
    npm pack --silent "$spec" >/dev/null
  fi
  if ! echo "$want  $tarball" | sha256sum -c --status; then
    echo "fetch.sh: $tarball from npm does not have the pinned sha256 $want" >&2
    exit 1
  fi
  rm -rf "${tarball%.tgz}"
  mkdir "${tarball%.tgz}"
  tar -xzf "$tarball" -C "${tarball%.tgz}"
}
fetch signtool@1.0.0 signtool-1.0.0.tgz 75ab40682a01589402c55e3ada39aba284b82ec2ae205ea0dce8f56c0e19de9a
fetch nuget-exe@5.8.0 nuget-exe-5.8.0.tgz 48e53f4410878e10ad8463c6330e9415458e69ea8a89b404a0573238b2b1c018
find "$out" -type f \( -name '*.exe' -o -name '*.dll' \) | sort >files.txt
[ "$(wc -l <files.txt)" -eq 9 ] || { echo "fetch.sh: expected 9 PE files, found:" >&2; cat files.txt >&2; exit 1; }
echo "Microsoft-signed files ready in $out"
