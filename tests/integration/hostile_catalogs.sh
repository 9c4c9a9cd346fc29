#!/usr/bin/env bash
# Hostile catalogs (issue 12, the catalog part of the overflow audit): DER lengths of 4 GiB and
# 2^63, a member SET claiming 2^31 bytes, attributes that do not decode, UTF-16 of odd length,
# tags longer than any hash, a 16 MiB name, a 4 GiB .cat file. Each input is generated here
# (python3), from the DER up; every refusal exits 1 exactly with one line naming the file.
# Each behaviour generates the catalogs it reads.
. "$(dirname "$0")/../lib.sh"

# the generator: gen.py KIND OUT writes the catalog KIND (below) to OUT
write_generator() {
cat >"$WORK/gen.py" <<'PY'
import sys, struct

def L(n, force=None):
    if force is not None:
        return force
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b

def tlv(tag, body, length=None):
    return bytes([tag]) + (length if length is not None else L(len(body))) + body

def oid(dotted):
    a = [int(x) for x in dotted.split('.')]
    out = bytes([40 * a[0] + a[1]])
    for v in a[2:]:
        enc = [v & 0x7f]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, out)

seq = lambda *p, length=None: tlv(0x30, b''.join(p), length)
set_ = lambda *p, length=None: tlv(0x31, b''.join(p), length)
octets = lambda b, length=None: tlv(0x04, b, length)
u16 = lambda s: s.encode('utf-16-le')

def namevalue(name, value_bytes, name_bytes=None, value_length=None):
    return seq(tlv(0x1e, name_bytes if name_bytes is not None else name.encode('utf-16-be')),
               tlv(0x02, bytes.fromhex('10010001')), octets(value_bytes, value_length))

def attr(o, *values, set_length=None):
    return seq(oid(o), set_(*values, length=set_length))

NV = '1.3.6.1.4.1.311.12.2.1'
def member(tag, file_value, extra=b'', set_length=None, nv=None):
    attrs = [attr(NV, nv if nv is not None else namevalue('File', file_value))]
    return seq(octets(tag), set_(*attrs, length=set_length)) + extra

def catalog(subjects, subjects_length=None, list_id=b'\x11' * 16, extensions=None):
    ctl = seq(seq(oid('1.3.6.1.4.1.311.12.1.1')), octets(list_id),
              tlv(0x17, b'260101000000Z'),
              seq(oid('1.3.6.1.4.1.311.12.1.2'), b'\x05\x00'),
              seq(*subjects, length=subjects_length) + (b'\0\0' if subjects_length == b'\x80' else b''),
              tlv(0xa0, seq(*extensions)) if extensions else b'')
    inner = seq(oid('1.3.6.1.4.1.311.10.1'), tlv(0xa0, ctl))
    sd = seq(tlv(0x02, b'\x01'), set_(), inner, set_())
    return seq(oid('1.2.840.113549.1.7.2'), tlv(0xa0, sd))

def hextag(sha1):
    return u16(sha1.hex().upper()) + b'\0\0'

SHA1 = bytes(range(20))
kind, out = sys.argv[1], sys.argv[2]
good = member(hextag(SHA1), u16('toaster.sys') + b'\0\0')
if kind == 'good':
    der = catalog([good])
elif kind == 'subject-4g':
    # a member whose SEQUENCE claims 0xFFFFFFF0 bytes; everything around it is consistent
    der = catalog([good, b'\x30\x84\xff\xff\xff\xf0' + octets(b'x')])
elif kind == 'subjects-8byte-length':
    # the member list's length in 8 bytes: 2^63 + 1
    body = good
    der = catalog([body], subjects_length=b'\x88\x80\x00\x00\x00\x00\x00\x00\x01')
elif kind == 'set-2g':
    # a member's attribute SET claims 2^31 bytes (no DER count exists: the length is the claim)
    der = catalog([member(hextag(SHA1), u16('a.sys'), set_length=b'\x84\x80\x00\x00\x00')])
elif kind == 'value-4g':
    # a File value whose OCTET STRING claims 0xFFFFFFFF bytes, inside a well-formed attribute
    nv = seq(tlv(0x1e, 'File'.encode('utf-16-be')), tlv(0x02, bytes.fromhex('10010001')),
             b'\x04\x84\xff\xff\xff\xff' + u16('a.sys'))
    der = catalog([member(hextag(SHA1), None, nv=nv)])
elif kind == 'long-tag':
    # a 200-byte tag, longer than the 128-byte tag buffer (a named tag, as old CDFs made)
    der = catalog([member(u16('t' * 99) + b'\0\0', u16('long.sys') + b'\0\0'), good])
elif kind == 'odd-value':
    # File's UTF-16 value has an odd length: a stray byte after the terminator
    der = catalog([member(hextag(SHA1), u16('odd.sys') + b'\0\0' + b'\x41')])
elif kind == 'odd-name':
    # the attribute's name (a BMPString) has an odd length
    der = catalog([member(hextag(SHA1), None, nv=namevalue(None, u16('x.sys'), name_bytes='File'.encode('utf-16-be') + b'\x00'))])
elif kind == 'huge-value':
    # a 16 MiB File value (valid UTF-16, no terminator)
    der = catalog([member(hextag(SHA1), u16('v') * (8 << 20))])
elif kind == 'quote-tag':
    # a text tag with a quote and a backslash (JSON output must escape them)
    der = catalog([member(u16('a"b\\c') + b'\0\0', u16('q.sys') + b'\0\0')])
elif kind == 'bad-member':
    # the second member is an empty SEQUENCE: no tag
    der = catalog([good, seq()])
elif kind == 'bad-attr':
    # a catalog attribute (an extension) whose name/value has an odd-length name
    nv = namevalue(None, u16('x'), name_bytes='OS'.encode('utf-16-be') + b'\x00')
    der = catalog([good], extensions=[seq(oid(NV), octets(nv))])
elif kind == 'good-attr':
    der = catalog([good], extensions=[seq(oid(NV), octets(namevalue('OS', u16('_v100_X64') + b'\0\0')))])
elif kind == 'many-empty':
    # 100000 empty members in 200 KB: each decoded element costs OpenSSL ~100 bytes
    der = catalog([b'\x30\x00' * 100000])
elif kind == 'many-tiny':
    # 100000 members that are only an empty tag (valid DER, 4 bytes each)
    der = catalog([b'\x30\x02\x04\x00' * 100000])
elif kind == 'many-ber':
    # the same 100000 empty members in a BER indefinite-length list, which OpenSSL would decode
    der = catalog([b'\x30\x00' * 100000], subjects_length=b'\x80')
elif kind == 'many-real':
    # 20000 members as makecat writes them: all are read
    der = catalog([member(hextag(i.to_bytes(20, 'big')), u16('f%d.sys' % i) + b'\0\0')
                   for i in range(20000)])
elif kind == 'long-list-id':
    der = catalog([good], list_id=b'\x22' * 100)
else:
    raise SystemExit('unknown kind ' + kind)
open(out, 'wb').write(der)
PY
}
# gen KIND...: WORK/KIND.cat for each, the generator written first where it is not yet
gen() {
  local kind
  [ -f "$WORK/gen.py" ] || write_generator || return
  for kind in "$@"; do
    $PY "$WORK/gen.py" "$kind" "$WORK/$kind.cat" || return
  done
}
# a file to check against a catalog that does not list it
member_file() { printf 'a member\n' >"$WORK/member.txt"; }

# ---- the generator's baseline is a catalog drvsign and openssl read ----
behaviour_baseline() {
setup "generate the catalogs" gen good good-attr || return
check "baseline: openssl parses the generated catalog" openssl asn1parse -inform DER -in "$WORK/good.cat"
check_output "baseline: inspect reads its member" "toaster\.sys" "$DRVSIGN" inspect "$WORK/good.cat"
check_output "baseline: inspect reads a catalog attribute" "attribute OS = _v100_X64" \
  "$DRVSIGN" inspect "$WORK/good-attr.cat"
}

# malformed KIND DESCRIPTION: inspect and verify --catalog refuse WORK/KIND.cat, in one line
malformed() {
  local f="$WORK/$1.cat" re="^drvsign: .*$1\\.cat: the catalog's certificate trust list is malformed"
  check_error "$2: inspect refuses it" 1 "$re" "$DRVSIGN" inspect "$f"
  check "$2: ... in one error line" bash -c "'$DRVSIGN' inspect '$f' 2>&1 >/dev/null | grep -c '^drvsign: ' | grep -qx 1"
  check_error "$2: verify --catalog refuses it" 1 "$re" ds_verify --catalog "$f" "$WORK/member.txt"
}

# ---- lengths no catalog can have: refused with one line, never read past ----
behaviour_impossible_lengths() {
setup "generate the catalogs" gen subject-4g subjects-8byte-length set-2g value-4g || return
setup "a member file" member_file || return
malformed subject-4g "a member SEQUENCE claiming 0xFFFFFFF0 bytes"
malformed subjects-8byte-length "the member list's length in 8 bytes (2^63 + 1)"
malformed set-2g "a member's attribute SET claiming 2^31 bytes"
malformed value-4g "a File value claiming 0xFFFFFFFF bytes inside a well-formed attribute"
check_error "a File value claiming 4 GiB: the member is named" 1 "value-4g\\.cat: .*member 1" \
  "$DRVSIGN" inspect "$WORK/value-4g.cat"
}

# ---- attributes and members that do not decode: refused, the one at fault named ----
behaviour_undecodable_parts() {
setup "generate the catalogs" gen odd-name bad-member bad-attr || return
setup "a member file" member_file || return
malformed odd-name "an attribute name (BMPString) of odd length"
malformed bad-member "a member with no tag"
check_error "a member with no tag: the member is named" 1 "bad-member\.cat: .*member 2 is not" \
  "$DRVSIGN" inspect "$WORK/bad-member.cat"
malformed bad-attr "a catalog attribute whose name has odd length"
check_error "a catalog attribute that does not decode: it is named" 1 "bad-attr\.cat: .*catalog attribute 1" \
  "$DRVSIGN" inspect "$WORK/bad-attr.cat"
}

# ---- member counts no catalog of that size has: refused before OpenSSL decodes them ----
behaviour_member_counts() {
setup "generate the catalogs" gen many-empty many-tiny many-ber many-real || return
setup "a member file" member_file || return
malformed many-empty "100000 empty members in 200 KB"
check_error "100000 empty members: the count is named" 1 \
  "many-empty\.cat: .*100000 members and attributes in [0-9]+ bytes, fewer than 32 bytes each" \
  "$DRVSIGN" inspect "$WORK/many-empty.cat"
malformed many-tiny "100000 members that are only an empty tag"
malformed many-ber "100000 empty members in a BER indefinite-length list"
check_error "a BER indefinite length: said so" 1 "many-ber\.cat: .*lengths are not DER" \
  "$DRVSIGN" inspect "$WORK/many-ber.cat"
check "20000 members as makecat writes them are all read" \
  json_is 0 "assert len(r['files'][0]['catalog']['members']) == 20000" "$DRVSIGN" inspect --json "$WORK/many-real.cat"
}

# ---- odd, long and huge values that are still a catalog ----
# json_ok KIND DESCRIPTION PYTHON: inspect --json reads WORK/KIND.cat, and PYTHON holds
json_ok() {
  check "$2" json_is 0 "$3" "$DRVSIGN" inspect --json "$WORK/$1.cat"
}
member0='m = r["files"][0]["catalog"]["members"]'
behaviour_odd_values() {
setup "generate the catalogs" gen odd-value long-tag huge-value quote-tag long-list-id || return
setup "a member file" member_file || return
json_ok odd-value "UTF-16 of odd length: the stray byte after the terminator is ignored" \
  "$member0; assert m[0]['file'] == 'odd.sys', m"
json_ok long-tag "a 200-byte tag is shown whole (it is longer than any digest tag)" \
  "$member0; assert m[0]['tag'] == 't' * 99, m[0]['tag']; assert m[1]['file'] == 'toaster.sys'"
check_error "a 200-byte tag: a file not in the catalog is not found" 1 "member\\.txt: is not in" \
  ds_verify --catalog "$WORK/long-tag.cat" "$WORK/member.txt"
json_ok huge-value "a 16 MiB File value is read whole" \
  "$member0; assert m[0]['file'] == 'v' * (8 << 20), len(m[0]['file'])"
json_ok quote-tag "a text tag with a quote and a backslash: the JSON stays valid" \
  "$member0; assert m[0]['file'] == 'q.sys', m"
json_ok long-list-id "a 100-byte list identifier is shown whole" \
  "c = r['files'][0]['catalog']; assert c['list_identifier'] == '22' * 100, c['list_identifier']"
}

# ---- a 4 GiB .cat (sparse): refused by size before anything is read into memory ----
behaviour_catalog_4g() {
setup "generate the catalog" gen good || return
setup "a member file" member_file || return
setup "a sparse 4 GiB copy" bash -c "cp '$WORK/good.cat' '$WORK/big.cat' && truncate -s 4G '$WORK/big.cat'" || return
local big_re="big\\.cat: a 4294967296-byte catalog is beyond any real package"
check_error "a 4 GiB catalog: inspect refuses it" 1 "$big_re" "$DRVSIGN" inspect "$WORK/big.cat"
check_error "a 4 GiB catalog: verify refuses it" 1 "$big_re" ds_verify "$WORK/big.cat"
check_error "a 4 GiB catalog: verify --catalog refuses it" 1 "$big_re" \
  ds_verify --catalog "$WORK/big.cat" "$WORK/member.txt"
check_error "a 4 GiB catalog: sign refuses it" 1 "$big_re" \
  "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/big.cat" --out "$WORK/big-signed.cat"
check "a 4 GiB catalog: no signed copy is written" test ! -e "$WORK/big-signed.cat"
check "a 4 GiB catalog: the input is untouched" \
  bash -c "[ \$(stat -c %s '$WORK/big.cat') = 4294967296 ] && cmp -s -n \$(stat -c %s '$WORK/good.cat') '$WORK/good.cat' '$WORK/big.cat'"
rm -f "$WORK/big.cat"
}

run_behaviours "$@"
