#!/usr/bin/env bash
# Hostile packages (issue 12): a package is a closed world, so symbolic links in it (to files
# or directories, out of the package or inside it) are refused by cab, archive, catalog and
# verify --package, by name, with exit 1 and nothing written; a cabinet with a damaged file
# table is not signed; page hashes of a 4 GiB-class section (a sparse file) are right.
. "$(dirname "$0")/../lib.sh"
: "${TOASTPKG:?}"
export LC_ALL=C.UTF-8

outside() { # the files outside the package the links point to, in this behaviour's WORK
  mkdir -p "$WORK/outside/secrets"
  echo "not for the package" >"$WORK/outside/passwd.txt"
  echo "neither is this" >"$WORK/outside/secrets/key.txt"
  cp "$DRIVERS/toaster.sys" "$WORK/outside/toaster.sys"
}

fresh_pkg() { # DIR: a copy of the test package at DIR/toastpkg
  rm -rf "$1"
  mkdir -p "$1"
  cp -r "$TOASTPKG" "$1/toastpkg"
}
nothing_written() { # DIR FILE: FILE does not exist and DIR holds no temp file
  [ ! -e "$2" ] && lacks '\.ds' ls -A "$1"
}

# ---- cab and archive: links out of the package, and links inside it ----
links() { # kind
  local kind=$1 p bad fmt
  outside
  p=$WORK/pk-$kind
  fresh_pkg "$p"
  case $kind in
    file) ln -s "$WORK/outside/passwd.txt" "$p/toastpkg/passwd.txt"; bad=passwd.txt ;;
    dir) ln -s "$WORK/outside/secrets" "$p/toastpkg/security"; bad=security ;;
    inner) ln -s toastpkg.inf "$p/toastpkg/copy.inf"; bad=copy.inf ;;
  esac
  check_exit "cab: a $kind symlink is refused" 1 "$DRVSIGN" cab --quiet --out "$p/out.cab" "$p/toastpkg"
  check_error "cab: the $kind symlink is named" 1 "toastpkg/$bad: is a symbolic link \(to " \
    "$DRVSIGN" cab --quiet --out "$p/out.cab" "$p/toastpkg"
  check "cab: nothing written for the $kind symlink" nothing_written "$p" "$p/out.cab"
  check_exit "cab --cert: a $kind symlink is refused before signing" 1 \
    "$DRVSIGN" cab --quiet "${LEAF[@]}" --out "$p/out.cab" "$p/toastpkg"
  check "cab --cert: nothing written for the $kind symlink" nothing_written "$p" "$p/out.cab"
  for fmt in zip tar.gz; do
    check_exit "archive $fmt: a $kind symlink is refused" 1 \
      "$DRVSIGN" archive --quiet --format "$fmt" --out "$p/out.$fmt" "$p/toastpkg"
    check "archive $fmt: nothing written for the $kind symlink" nothing_written "$p" "$p/out.$fmt"
  done
}
behaviour_link_to_outside_file() { links file; }
behaviour_link_to_outside_dir() { links dir; }
behaviour_link_inside() { links inner; }
# every bad entry is listed, then exit 1
behaviour_every_link_named() {
local p rc
outside
p=$WORK/pk-two
fresh_pkg "$p"
ln -s "$WORK/outside/passwd.txt" "$p/toastpkg/a.txt"
ln -s "$WORK/outside/passwd.txt" "$p/toastpkg/amd64/b.txt"
"$DRVSIGN" cab --quiet --out "$p/out.cab" "$p/toastpkg" >"$p/log" 2>&1
rc=$?
check "cab: two links, exit 1 ($rc)" test "$rc" -eq 1
check "cab: both links are named" bash -c "grep -q 'toastpkg/a.txt: is a symbolic link' '$p/log' && grep -q 'amd64/b.txt: is a symbolic link' '$p/log'"
}
# the control: the same package without links is packed (the refusals are about the links)
behaviour_control_without_links() {
local p=$WORK/pk-clean
fresh_pkg "$p"
check "cab: the package without links is packed" "$DRVSIGN" cab --quiet --out "$p/out.cab" "$p/toastpkg"
check "archive: the package without links is packed" \
  "$DRVSIGN" archive --quiet --format zip --out "$p/out.zip" "$p/toastpkg"
}
# --include-pdb: a symlinked pdb is refused too
behaviour_pdb_link() {
local p=$WORK/pk-clean
outside
fresh_pkg "$p"
mkdir -p "$WORK/pdbs"
ln -s "$WORK/outside/passwd.txt" "$WORK/pdbs/toaster.pdb"
check_exit "cab --include-pdb: a symlinked pdb is refused" 1 \
  "$DRVSIGN" cab --quiet --include-pdb "$WORK/pdbs" --out "$p/pdb.cab" "$p/toastpkg"

}

# ---- catalog --driver and verify --package: symlinked members ----
behaviour_catalog_member_link() {
local p=$WORK/cat-file
outside
fresh_pkg "$p"
rm "$p/toastpkg/amd64/toaster.sys"
ln -s "$WORK/outside/toaster.sys" "$p/toastpkg/amd64/toaster.sys"
check_exit "catalog --driver: a symlinked member is refused" 1 \
  "$DRVSIGN" catalog --quiet --driver "$p/toastpkg" --os 10_X64
check_error "catalog --driver: the member and its link are named" 1 \
  "toaster.sys in \[.*\] is not a file of the package: amd64/toaster.sys is a symbolic link \(to " \
  "$DRVSIGN" catalog --quiet --driver "$p/toastpkg" --os 10_X64
check "catalog --driver: no catalog written" nothing_written "$p/toastpkg" "$p/toastpkg/tstamd64.cat"
}
behaviour_catalog_directory_link() {
local p=$WORK/cat-dir
outside
fresh_pkg "$p"
mv "$p/toastpkg/amd64" "$WORK/outside/amd64"
ln -s "$WORK/outside/amd64" "$p/toastpkg/amd64"
check_exit "catalog --driver: a symlinked directory is refused" 1 \
  "$DRVSIGN" catalog --quiet --driver "$p/toastpkg" --os 10_X64
check_error "catalog --driver: the directory link is named" 1 "amd64 is a symbolic link" \
  "$DRVSIGN" catalog --quiet --driver "$p/toastpkg" --os 10_X64
check "catalog --driver: no catalog written for the directory link" \
  nothing_written "$p/toastpkg" "$p/toastpkg/tstamd64.cat"
}
behaviour_catalog_inf_link() {
local p=$WORK/cat-inf
outside
fresh_pkg "$p"
mv "$p/toastpkg/toastpkg.inf" "$WORK/outside/toastpkg.inf"
ln -s "$WORK/outside/toastpkg.inf" "$p/toastpkg/toastpkg.inf"
check_exit "catalog --driver: a symlinked INF is refused" 1 \
  "$DRVSIGN" catalog --quiet --driver "$p/toastpkg" --os 10_X64
}
# verify --package: a good package, then one member swapped for a link to an identical copy
behaviour_verify_package_links() {
local p=$WORK/ver
outside
fresh_pkg "$p"
setup "catalog the package" "$DRVSIGN" catalog --quiet --driver "$p/toastpkg" --os 10_X64 || return
setup "sign its catalog" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$p/toastpkg/tstamd64.cat" || return
check "verify --package: the package as built verifies" \
  "$DRVSIGN" verify --ca "$PKI/root.pem" --package "$p/toastpkg" --os 10_X64
mv "$p/toastpkg/amd64/toaster.sys" "$WORK/outside/same-toaster.sys"
ln -s "$WORK/outside/same-toaster.sys" "$p/toastpkg/amd64/toaster.sys"
check_exit "verify --package: a symlinked member is refused, though its bytes match" 1 \
  "$DRVSIGN" verify --ca "$PKI/root.pem" --package "$p/toastpkg" --os 10_X64
rm "$p/toastpkg/amd64/toaster.sys"
mv "$WORK/outside/same-toaster.sys" "$p/toastpkg/amd64/toaster.sys"
mv "$p/toastpkg/tstamd64.cat" "$WORK/outside/tstamd64.cat"
ln -s "$WORK/outside/tstamd64.cat" "$p/toastpkg/tstamd64.cat"
check_exit "verify --package: a symlinked catalog is refused" 1 \
  "$DRVSIGN" verify --ca "$PKI/root.pem" --package "$p/toastpkg" --os 10_X64

}

# ---- sign checks a cabinet's file table as verify does (cFiles = 0xFFFF) ----
behaviour_cab_file_table() {
local p=$WORK/cabtable
fresh_pkg "$p"
setup "a cabinet of the package" "$DRVSIGN" cab --quiet --time 1700000000 --out "$p/t.cab" "$p/toastpkg" || return
cp "$p/t.cab" "$p/good.cab"
put_u16 "$p/t.cab" 28 0xFFFF
cp "$p/t.cab" "$p/orig.cab"
check_exit "sign: a cabinet claiming 65535 files is refused" 1 "$DRVSIGN" sign --quiet "${LEAF[@]}" "$p/t.cab"
check "sign: the damaged cabinet is untouched" same_bytes "$p/t.cab" "$p/orig.cab"
check_exit "verify: the damaged cabinet is refused" 1 "$DRVSIGN" verify --ca "$PKI/root.pem" "$p/t.cab"
cp "$p/good.cab" "$p/folder.cab"
# the first CFFILE entry (at coffFiles) names folder 7 of a one-folder cabinet
put_u16 "$p/folder.cab" $(($($PY -c 'import struct,sys; print(struct.unpack_from("<I", open(sys.argv[1],"rb").read(), 16)[0])' "$p/folder.cab") + 8)) 7
check_exit "sign: a file entry naming a missing folder is refused" 1 \
  "$DRVSIGN" sign --quiet "${LEAF[@]}" "$p/folder.cab"
check "sign: the intact cabinet still signs" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$p/good.cab"
check "sign: the intact cabinet verifies (osslsigncode)" oss_verify "$p/good.cab"
}

# ---- page hashes of a section within one page of 4 GiB (a sparse PE made by truncate) ----
# PE32+, SectionAlignment 4 KiB, one section at 0x200 of 0xFFFFF200 bytes (not a multiple of
# the page, so a 32-bit page counter would wrap), the file 0xFFFFF400 bytes.
behaviour_page_hashes_4g() {
local big=$WORK/big4g.sys
$PY - "$big" <<'PY'
import struct, sys
h = bytearray(0x200)
h[0:2] = b"MZ"; struct.pack_into("<I", h, 0x3c, 0x40)
h[0x40:0x44] = b"PE\0\0"
struct.pack_into("<HHIIIHH", h, 0x44, 0x8664, 1, 0, 0, 0, 240, 0x22)
o = 0x58
struct.pack_into("<HBB", h, o, 0x20b, 14, 0)
struct.pack_into("<I", h, o + 16, 0x1000)        # AddressOfEntryPoint
struct.pack_into("<Q", h, o + 24, 0x140000000)   # ImageBase
struct.pack_into("<II", h, o + 32, 0x1000, 0x200) # SectionAlignment, FileAlignment
struct.pack_into("<HH", h, o + 40, 10, 0)
struct.pack_into("<HH", h, o + 48, 10, 0)
struct.pack_into("<I", h, o + 56, 0x3000)        # SizeOfImage
struct.pack_into("<I", h, o + 60, 0x200)         # SizeOfHeaders
struct.pack_into("<HH", h, o + 68, 1, 0)         # native subsystem
struct.pack_into("<I", h, o + 108, 16)           # NumberOfRvaAndSizes
s = o + 240
h[s:s + 8] = b".text\0\0\0"
struct.pack_into("<IIII", h, s + 8, 0x1000, 0x1000, 0xFFFFF200, 0x200)  # virtual: one page
struct.pack_into("<I", h, s + 36, 0x60000020)
open(sys.argv[1], "wb").write(h)
PY
truncate -s $((0xFFFFF400)) "$big"
check "4 GiB section: pefile reads the section as made" \
  test "$($PY -c 'import pefile,sys; print(pefile.PE(sys.argv[1], fast_load=True).sections[0].SizeOfRawData)' "$big")" = $((0xFFFFF200))
check "4 GiB section: catalog --page-hashes succeeds" \
  "$DRVSIGN" catalog --quiet --files "$big" --out "$WORK/big.cat" --page-hashes --catalog-version 2 --time 1700000000
check "4 GiB section: the catalog parses (openssl)" openssl asn1parse -inform DER -in "$WORK/big.cat" -noout
# entries: the headers, 1048575 full pages, 1 partial page, the end marker; SHA-256 entries of
# 4 + 32 bytes. Each page's entry must carry its own file offset, the last the end of the data.
check "4 GiB section: one page-hash entry per page, each at its offset" $PY - "$WORK/big.cat" <<'PY'
import struct, sys
cat = open(sys.argv[1], "rb").read()
n = 1 + 0xFFFFF + 1 + 1
head = b"\x04\x84" + struct.pack(">I", n * 36)  # OCTET STRING of exactly n entries
at = cat.find(head)
assert at >= 0, "no page-hash table of %d entries" % n
t = cat[at + len(head):at + len(head) + n * 36]
offs = [struct.unpack_from("<I", t, i * 36)[0] for i in range(n)]
want = [0] + [0x200 + i * 0x1000 for i in range(0x100000)] + [0xFFFFF400]
assert offs == want, "entry offsets differ"
assert t[-32:] == bytes(32), "the end marker's hash is not zero"
PY
rm -f "$big" "$WORK/big.cat"
}

run_behaviours "$@"
