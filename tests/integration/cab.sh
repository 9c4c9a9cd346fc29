#!/usr/bin/env bash
# Cabinets: drvsign cab against cabextract, bsdtar (libarchive) and gcab, byte-exact extraction,
# signing checked by osslsigncode, tampering, reproducibility, Partner Center's rules; and
# drvsign archive through libarchive.
. "$(dirname "$0")/../lib.sh"
: "${TOASTPKG:?}"

# the test set: edge sizes around the 32 KiB block, incompressible data, non-ASCII names, in
# this behaviour's WORK (made once per behaviour)
test_set() {
set_dir="$WORK/in/pkg1"
[ -e "$set_dir/sub" ] && return 0
mkdir -p "$set_dir/sub"
cat >"$set_dir/pkg1.inf" <<'INF'
[Version]
Signature = "$WINDOWS NT$"
Class = System
ClassGuid = {4d36e97d-e325-11ce-bfc1-08002be10318}
Provider = drvsign
DriverVer = 01/02/2023,1.0.0.0
CatalogFile = pkg1.cat
[Manufacturer]
drvsign = Models, NTamd64
[Models.NTamd64]
Device = Install, root\pkg1
INF
: >"$set_dir/zero.bin"
printf 'x' >"$set_dir/one.bin"
head -c 32768 /dev/urandom >"$set_dir/exact.bin"
head -c 32769 /dev/urandom >"$set_dir/over.bin"
head -c $((5 << 20)) /dev/urandom >"$set_dir/big.bin"
for i in $(seq 4000); do echo "line $i of a compressible text file"; done >"$set_dir/text.txt"
printf 'non-ASCII name\n' >"$set_dir/sub/na$(printf '\xc3\xafve')-$(printf '\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb').dat"
}

same_tree() { # extracted-dir: every input file is there with the same bytes
  local out=$1 f rel
  while IFS= read -r -d '' f; do
    rel=${f#"$WORK/in/"}
    cmp -s "$f" "$out/$rel" || { echo "differs or missing: $rel"; return 1; }
  done < <(find "$WORK/in" -type f -print0)
}
# offset of the first and last CFDATA block of folder 0
cfdata() {
  $PY - "$1" "$2" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
flags = struct.unpack_from("<H", b, 0x1E)[0]
off = 36
if flags & 4:
    cbh = struct.unpack_from("<H", b, 36)[0]
    off += 4 + cbh
start, blocks = struct.unpack_from("<IH", b, off)
pos, last = start, start
for _ in range(blocks):
    last = pos
    pos += 8 + struct.unpack_from("<H", b, pos + 4)[0]
print(start if sys.argv[2] == "first" else last)
PY
}

# the cabinets the per-compression behaviours share, unsigned and signed
comp_cab() { # comp
  test_set
  cab="$WORK/$1.cab"
  [ -e "$cab" ] || setup "$1: drvsign cab" "$DRVSIGN" cab --quiet --compression $1 --time 1700000000 --out "$cab" "$set_dir"
}
comp_signed() { # comp
  test_set
  signed="$WORK/$1-signed.cab"
  [ -e "$signed" ] || setup "$1: cab with signer options signs in one step" "$DRVSIGN" cab --quiet --compression $1 --time 1700000000 \
    "${LEAF[@]}" --out "$signed" "$set_dir"
}

readers() { # comp
  local comp=$1
  test_set
  cab="$WORK/$comp.cab"
  check "$comp: drvsign cab" "$DRVSIGN" cab --quiet --compression $comp --time 1700000000 --out "$cab" "$set_dir"
  check "$comp: cabextract -t" cabextract -q -t "$cab"
  check "$comp: bsdtar -tvf lists every file" bash -c "[ \$(bsdtar -tf '$cab' | wc -l) -eq 8 ]"
  check "$comp: gcab -t" bash -c "gcab -t '$cab' | grep -q 'pkg1\\\\big.bin'"
  check "$comp: names use backslashes and sit in the package folder" bash -c "gcab -t '$cab' | grep -q '^pkg1\\\\sub\\\\'"
  rm -rf "$WORK/x1" "$WORK/x2" "$WORK/x3"
  mkdir -p "$WORK/x1" "$WORK/x2" "$WORK/x3"
  check "$comp: cabextract extracts the exact bytes" bash -c "cabextract -q -d '$WORK/x1' '$cab' && $(declare -f same_tree); WORK='$WORK' same_tree '$WORK/x1'"
  check "$comp: bsdtar extracts the exact bytes" bash -c "bsdtar -xf '$cab' -C '$WORK/x2' && $(declare -f same_tree); WORK='$WORK' same_tree '$WORK/x2'"
  check "$comp: gcab extracts the exact bytes" bash -c "gcab -x -C '$WORK/x3' '$cab' >/dev/null && $(declare -f same_tree); WORK='$WORK' same_tree '$WORK/x3'"
  check "$comp: dates come from --time" bash -c "bsdtar -tvf '$cab' | grep -q 'Nov 14  2023'"
}
signed() { # comp
  local comp=$1
  test_set
  signed="$WORK/$comp-signed.cab"
  check "$comp: cab with signer options signs in one step" "$DRVSIGN" cab --quiet --compression $comp --time 1700000000 \
    "${LEAF[@]}" --out "$signed" "$set_dir"
  check "$comp: osslsigncode verifies the signed cabinet" oss_verify "$signed"
  check "$comp: drvsign verifies it" ds_verify "$signed"
  check "$comp: cabextract -t still reads the signed cabinet" cabextract -q -t "$signed"
  check "$comp: bsdtar still lists it" bash -c "[ \$(bsdtar -tf '$signed' | wc -l) -eq 8 ]"
  check "$comp: gcab still lists it" bash -c "gcab -t '$signed' | grep -q 'pkg1\\\\big.bin'"
}
tampered() { # comp
  local comp=$1 which t u
  comp_cab $comp || return
  comp_signed $comp || return
  for which in first last; do
    t="$WORK/$comp-$which.cab"
    cp "$signed" "$t"
    flip_byte "$t" $(($(cfdata "$t" $which) + 8 + 3))
    check "$comp: a flipped byte in the $which CFDATA block: osslsigncode rejects" oss_rejects "$t"
    check "$comp: ... and drvsign rejects" ds_rejects "$t"
    u="$WORK/$comp-$which-unsigned.cab"
    cp "$cab" "$u"
    flip_byte "$u" $(($(cfdata "$u" $which) + 8 + 3))
    check_exit "$comp: ... and cabextract -t finds it in the unsigned cabinet" 1 cabextract -q -t "$u"
  done
}
behaviour_mszip_readers() { readers mszip; }
behaviour_mszip_signed() { signed mszip; }
behaviour_mszip_tampered() { tampered mszip; }
behaviour_stored_readers() { readers none; }
behaviour_stored_signed() { signed none; }
behaviour_stored_tampered() { tampered none; }

behaviour_reserve_and_compression() {
comp_cab mszip || return
comp_cab none || return
comp_signed mszip || return
check "an unsigned cabinet has no reserve (flags 0)" bash -c "[ \$(od -An -tx1 -j30 -N2 '$WORK/mszip.cab' | tr -d ' ') = 0000 ]"
check "the signed one has the 20-byte reserve" bash -c "[ \$(od -An -tx1 -j36 -N8 '$WORK/mszip-signed.cab' | tr -d ' ') = 1400000000001000 ]"
check "MSZIP compresses the text" bash -c "[ \$(stat -c %s '$WORK/mszip.cab') -lt \$(stat -c %s '$WORK/none.cab') ]"
}

# Many batches through the compression pipeline (64 blocks each), stored and deflated blocks
# interleaved: each CFDATA block must inflate on its own (no history from the block before),
# and the blocks must join into the files' bytes. Random blocks are stored; a block whose bytes
# are evenly spread but that repeats itself is still deflated.
behaviour_mixed_blocks() {
test_set
mkdir -p "$WORK/in5/mixed"
cp "$set_dir/pkg1.inf" "$WORK/in5/mixed/"
for i in $(seq 200); do
  head -c 32768 /dev/urandom
  yes "text block $i" | head -c 32768
  # every byte value equally often (as random as it gets byte by byte), but 4 KiB repeated
  [ $((i % 4)) -eq 0 ] && $PY -c "import random, sys; r = random.Random($i); b = bytearray(range(256)) * 16
r.shuffle(b); sys.stdout.buffer.write(bytes(b) * 8)"
done >"$WORK/in5/mixed/mixed.bin"
check "mixed: drvsign cab over 500 blocks" "$DRVSIGN" cab --quiet --time 1700000000 --out "$WORK/mixed.cab" "$WORK/in5/mixed"
check "mixed: every block inflates alone, stored and deflated ones both, and they join to the input" \
  $PY - "$WORK/mixed.cab" "$WORK/in5/mixed/mixed.bin" "$WORK/in5/mixed/pkg1.inf" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
want = b"".join(open(f, "rb").read() for f in sys.argv[2:])
start, blocks, comp = struct.unpack_from("<IHH", b, 36)
assert comp == 1, comp
pos, got, stored, deflated, repeats = start, [], 0, 0, 0
for _ in range(blocks):
    cb, cu = struct.unpack_from("<HH", b, pos + 4)
    payload = b[pos + 8:pos + 8 + cb]
    assert payload[:2] == b"CK" and cb <= 32768 + 12 and cu <= 32768
    data = zlib.decompressobj(-15).decompress(payload[2:])
    assert len(data) == cu
    if payload[2] & 6 == 0:
        stored += 1
    else:
        deflated += 1
        repeats += 4096 < cb < 5000
    got.append(data)
    pos += 8 + cb
assert b"".join(got) == want, "the blocks do not join to the input"
assert stored >= 200 and deflated >= 250 and repeats == 50, (stored, deflated, repeats)
PY
rm -rf "$WORK/x5" && mkdir -p "$WORK/x5/c" "$WORK/x5/b" "$WORK/x5/g"
check "mixed: cabextract, bsdtar and gcab extract the exact bytes" bash -c "
  cabextract -q -d '$WORK/x5/c' '$WORK/mixed.cab' && bsdtar -xf '$WORK/mixed.cab' -C '$WORK/x5/b' &&
  gcab -x -C '$WORK/x5/g' '$WORK/mixed.cab' >/dev/null &&
  for d in c b g; do cmp '$WORK/in5/mixed/mixed.bin' '$WORK/x5/'\$d/mixed/mixed.bin || exit 1; done"
}

behaviour_reproducible() {
test_set
check "a cabinet with SOURCE_DATE_EPOCH" env SOURCE_DATE_EPOCH=1700000000 "$DRVSIGN" cab --quiet --out "$WORK/r1.cab" "$set_dir"
touch "$set_dir/one.bin"
check "... again, after touching a file" env SOURCE_DATE_EPOCH=1700000000 "$DRVSIGN" cab --quiet --out "$WORK/r2.cab" "$set_dir"
check "... byte-identical" cmp "$WORK/r1.cab" "$WORK/r2.cab"
check "signed, twice" bash -c "
  SOURCE_DATE_EPOCH=1700000000 '$DRVSIGN' cab --quiet ${LEAF[*]} --out '$WORK/r3.cab' '$set_dir' &&
  SOURCE_DATE_EPOCH=1700000000 '$DRVSIGN' cab --quiet ${LEAF[*]} --out '$WORK/r4.cab' '$set_dir'"
check "... byte-identical too (the signature is deterministic)" cmp "$WORK/r3.cab" "$WORK/r4.cab"
}

# cabinets made by other tools
gcab_cab() {
mkdir -p "$WORK/g/Echo"
cp "$TOASTPKG/toastpkg.inf" "$TOASTPKG/amd64/toaster.sys" "$WORK/g/Echo/"
setup "gcab makes a cabinet" bash -c "cd '$WORK/g' && gcab -c -z gcab.cab Echo/toastpkg.inf Echo/toaster.sys"
}
behaviour_foreign_cabinet() {
gcab_cab || return
check "sign a gcab-made cabinet" "$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/g/signed.cab" "$WORK/g/gcab.cab"
check "osslsigncode verifies it" oss_verify "$WORK/g/signed.cab"
check "cabextract -t still reads it" cabextract -q -t "$WORK/g/signed.cab"
check "re-signing" "$DRVSIGN" sign --quiet --cert "$PKI/leaf-ec-chain.pem" --key "$PKI/leaf-ec.key" "$WORK/g/signed.cab"
check_output "... replaces the signature" "Number of verified signatures: 1" oss_verify "$WORK/g/signed.cab"
check "--append" "$DRVSIGN" sign --quiet "${LEAF[@]}" --digest sha1 --append "$WORK/g/signed.cab"
check_output "... nests a second signature" "Number of verified signatures: 2" oss_verify "$WORK/g/signed.cab"
check_output "inspect lists the cabinet's files and signatures" "Echo.toaster.sys" "$DRVSIGN" inspect "$WORK/g/signed.cab"
check "inspect --json is valid JSON" json_is 0 '
f = r["files"][0]
assert len(f["cabinet"]["files"]) == 2 and len(f["signatures"]) == 2, f
' "$DRVSIGN" inspect --json "$WORK/g/signed.cab"
}
# a cabinet with another kind of reserve is refused, untouched
behaviour_foreign_reserve() {
local before
gcab_cab || return
cp "$WORK/g/gcab.cab" "$WORK/g/reserve.cab"
$PY - "$WORK/g/reserve.cab" <<'PY'
import struct, sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
# insert a 6-byte header reserve (cabarc -s style) and shift the offsets
flags = struct.unpack_from("<H", b, 0x1E)[0] | 4
struct.pack_into("<H", b, 0x1E, flags)
struct.pack_into("<I", b, 8, len(b) + 10)
struct.pack_into("<I", b, 16, struct.unpack_from("<I", b, 16)[0] + 10)
struct.pack_into("<I", b, 36, struct.unpack_from("<I", b, 36)[0] + 10)
b[36:36] = bytes([6, 0, 0, 0]) + b"RESERV"
open(p, "wb").write(b)
PY
before=$(file_sum "$WORK/g/reserve.cab")
check "that reserve still extracts (the test input is sound)" cabextract -q -t "$WORK/g/reserve.cab"
check_error "a cabinet with a 6-byte reserve cannot be signed, saying why" 1 "6-byte header reserve that is not an Authenticode signature slot" "$DRVSIGN" sign "${LEAF[@]}" "$WORK/g/reserve.cab"
check "... and is left as it was" test "$before" = "$(file_sum "$WORK/g/reserve.cab")"
printf 'MSCF' >"$WORK/g/short.cab"
check_error "a truncated cabinet is a clear error" 1 "^drvsign: .*short\.cab: " ds_verify "$WORK/g/short.cab"
}

# Partner Center's rules
pc() { "$DRVSIGN" cab --out "$WORK/pc.cab" "$@"; }
behaviour_partner_center_refusals() {
local long
test_set
check_error "a file at the cabinet root is refused, saying so" 1 "files at the root of a submission are refused" pc "$set_dir/pkg1.inf"
mkdir -p "$WORK/in2/noinf" && echo data >"$WORK/in2/noinf/a.bin"
check_error "a package without an INF is refused" 1 "no .inf file at the root of the package folder noinf" pc "$WORK/in2/noinf"
long="$WORK/in2/$(printf 'p%.0s' $(seq 40))"
cp -r "$set_dir" "$long"
check_error "a folder name of 40 characters is refused" 1 "not accepted by Partner Center: under 40" pc "$long"
cp -r "$set_dir" "$WORK/in2/my#pkg"
check_error "special characters are refused" 1 "'my#pkg' is not accepted" pc "$WORK/in2/my#pkg"
mkdir -p "$WORK/in2/x86only"
sed 's/Models, NTamd64/Models, NTx86/; s/Models.NTamd64/Models.NTx86/' "$set_dir/pkg1.inf" >"$WORK/in2/x86only/x.inf"
check_error "packages with different architectures are refused" 1 "package x86only supports x86, but pkg1 supports amd64" pc "$set_dir" "$WORK/in2/x86only"
mkdir -p "$WORK/in3/pkg1"
cp "$set_dir/pkg1.inf" "$WORK/in3/pkg1/"
check_error "two packages with one name are refused" 1 "also named pkg1" pc "$set_dir" "$WORK/in3/pkg1"
mkdir -p "$WORK/in5/broken"
printf '[Version]\nSignature = "$WINDOWS NT$"\n[Broken\nfoo = 1\n' >"$WORK/in5/broken/broken.inf"
check_error "an INF that cannot be read fails the cabinet (exit 1), naming its line" 1 \
  "broken/broken\.inf:3: section header is missing" pc "$WORK/in5/broken"
check "no cabinet was left behind by the refusals" lacks '^pc\.cab' ls -a "$WORK"
check_exit "--compression lzx is a usage error" 2 "$DRVSIGN" cab --compression lzx --out "$WORK/x.cab" "$set_dir"
}
behaviour_partner_center_packages() {
test_set
mkdir -p "$WORK/in4"
cp -r "$set_dir" "$WORK/in4/pkg2"
check "two packages with the same architectures" "$DRVSIGN" cab --quiet --out "$WORK/two.cab" "$set_dir" "$WORK/in4/pkg2"
check_output "... pkg1 in its folder" '^pkg1\\' gcab -t "$WORK/two.cab"
check_output "... pkg2 in its folder" '^pkg2\\' gcab -t "$WORK/two.cab"
check "... nothing at the root" lacks '^[^\\]+$' gcab -t "$WORK/two.cab"
check_error "the toast package (x86 and amd64) with pkg1 (amd64) is refused" 1 \
  "package toastpkg supports x86, amd64, but pkg1 supports amd64" "$DRVSIGN" cab --out "$WORK/mix.cab" "$set_dir" "$TOASTPKG"
}

behaviour_include_pdb() {
mkdir -p "$WORK/pdb"
echo "symbols" >"$WORK/pdb/toaster.pdb"
check "--include-pdb adds the matching PDBs" "$DRVSIGN" cab --quiet --include-pdb "$WORK/pdb" --out "$WORK/pdb.cab" "$TOASTPKG"
check "... beside each toaster.sys" bash -c "gcab -t '$WORK/pdb.cab' | grep -q 'toastpkg\\\\amd64\\\\toaster.pdb' && gcab -t '$WORK/pdb.cab' | grep -q 'toastpkg\\\\i386\\\\toaster.pdb'"
}

# the file-count limit
behaviour_file_limit() {
test_set
mkdir -p "$WORK/many/many"
cp "$set_dir/pkg1.inf" "$WORK/many/many/"
(cd "$WORK/many/many" && seq -f 'f%g' 65535 | xargs touch)
check_error "more than 65535 files is a clear error" 1 "65536 files; a cabinet holds at most 65535" \
  "$DRVSIGN" cab --out "$WORK/many.cab" "$WORK/many/many"
rm -rf "$WORK/many"
}

# zip/tar/7z through libarchive
archive() { # fmt
  local fmt=$1 a
  test_set
  a="$WORK/pkg.$fmt"
  check "archive --format $fmt" "$DRVSIGN" archive --quiet --format $fmt --time 1700000000 --out "$a" "$set_dir"
  rm -rf "$WORK/xa" && mkdir -p "$WORK/xa"
  check "$fmt: bsdtar extracts the exact bytes" bash -c "bsdtar -xf '$a' -C '$WORK/xa' && $(declare -f same_tree); WORK='$WORK' same_tree '$WORK/xa'"
  check "$fmt: a second run" "$DRVSIGN" archive --quiet --format $fmt --time 1700000000 --out "$WORK/again.$fmt" "$set_dir"
  check "$fmt: ... is byte-identical" cmp "$a" "$WORK/again.$fmt"
}
behaviour_archive_zip() { archive zip; }
behaviour_archive_tar_gz() { archive tar.gz; }
behaviour_archive_tar_xz() { archive tar.xz; }
behaviour_archive_7z() { archive 7z; }
behaviour_archive_order_and_usage() {
test_set
setup "archive --format tar.gz" "$DRVSIGN" archive --quiet --format tar.gz --time 1700000000 --out "$WORK/pkg.tar.gz" "$set_dir" || return
check "archive entries are in sorted order" bash -c "bsdtar -tf '$WORK/pkg.tar.gz' | sort -c"
check_exit "archive --format rar is a usage error" 2 "$DRVSIGN" archive --format rar --out "$WORK/x.rar" "$set_dir"
}

run_behaviours "$@"
