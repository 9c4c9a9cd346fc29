#!/usr/bin/python3
"""Independent checks of drvsign catalogs, sharing no code with drvsign.

A minimal DER reader walks the catalog (reference section 2), and pefile's offsets give
the Authenticode image hash (reference 2.7).

  catcheck.py authenticode FILE sha1|sha256      print the Authenticode digest of a PE file
  catcheck.py check CAT [--os TOKENS] [--osattr VALUE] FILE...
                                                 the members are exactly the FILEs, each with
                                                 the right tag, digest, File name, SIP and
                                                 attributes (makecat's: an empty SpcLink, v2
                                                 SHA-1 entries with the same File and
                                                 OSAttr); --os: the catalog's OS attribute;
                                                 --osattr: every member's OSAttr
  catcheck.py dump CAT                           members and catalog attributes as JSON
  catcheck.py ctl CAT                            print the CTL's DER bytes as hex
"""
import hashlib
import json
import os
import sys

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CTL = "1.3.6.1.4.1.311.10.1"
OID_MEMBER_V1 = "1.3.6.1.4.1.311.12.1.2"
OID_MEMBER_V2 = "1.3.6.1.4.1.311.12.1.3"
OID_NAMEVALUE = "1.3.6.1.4.1.311.12.2.1"
OID_MEMBERINFO = "1.3.6.1.4.1.311.12.2.2"
OID_MEMBERINFO2 = "1.3.6.1.4.1.311.12.2.3"
OID_INDIRECT = "1.3.6.1.4.1.311.2.1.4"
OID_PE_IMAGE = "1.3.6.1.4.1.311.2.1.15"
OID_CAB_DATA = "1.3.6.1.4.1.311.2.1.25"
PE_GUID = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}"
FLAT_GUID = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}"


def tlv(b, i):
    """(tag, start of content, end of content) of the DER element at i."""
    tag = b[i]
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return tag, j, j + n


def children(b, start, end):
    out, i = [], start
    while i < end:
        t, s, e = tlv(b, i)
        out.append((t, s, e, i))
        i = e
    return out


def oid(b, s, e):
    v = b[s:e]
    parts = [v[0] // 40, v[0] % 40]
    n = 0
    for c in v[1:]:
        n = n << 7 | (c & 0x7F)
        if not c & 0x80:
            parts.append(n)
            n = 0
    return ".".join(map(str, parts))


def parse_catalog(path):
    b = open(path, "rb").read()
    _, s, e = tlv(b, 0)
    ci = children(b, s, e)
    assert oid(b, ci[0][1], ci[0][2]) == OID_SIGNED_DATA, "not SignedData"
    sd = children(b, *tlv(b, ci[1][1])[1:])          # [0] EXPLICIT SignedData
    content_info = sd[2]
    inner = children(b, content_info[1], content_info[2])
    assert oid(b, inner[0][1], inner[0][2]) == OID_CTL, "content is not a CTL"
    ctl_t, ctl_s, ctl_e = tlv(b, inner[1][1])        # [0] EXPLICIT CTL
    ctl_start = inner[1][1]
    fields = children(b, ctl_s, ctl_e)
    info = {"ctl_der": b[ctl_start:ctl_e], "signers": len(children(b, sd[-1][1], sd[-1][2])),
            "members": [], "attributes": {}}
    for t, s, e, _ in fields:
        if t == 0x30 and children(b, s, e) and children(b, s, e)[0][0] == 0x06:
            first = children(b, s, e)[0]
            o = oid(b, first[1], first[2])
            if o in (OID_MEMBER_V1, OID_MEMBER_V2):
                info["version"] = 1 if o == OID_MEMBER_V1 else 2
        if t == 0x30 and children(b, s, e) and children(b, s, e)[0][0] == 0x30 and \
                children(b, *children(b, s, e)[0][1:3])[0][0] == 0x04:
            for mt, ms, me, _ in children(b, s, e):
                parts = children(b, ms, me)
                tag = b[parts[0][1]:parts[0][2]]
                attrs = {}
                if len(parts) > 1:
                    for at, as_, ae, _ in children(b, parts[1][1], parts[1][2]):
                        a = children(b, as_, ae)
                        o = oid(b, a[0][1], a[0][2])
                        vals = [(vt, b[vs:ve], b[vi:ve]) for vt, vs, ve, vi in children(b, a[1][1], a[1][2])]
                        attrs.setdefault(o, []).extend(vals)
                info["members"].append({"tag": tag, "attrs": attrs})
        if t == 0xA0:  # ctlExtensions
            for xt, xs, xe, _ in children(b, *children(b, s, e)[0][1:3]):
                x = children(b, xs, xe)
                if oid(b, x[0][1], x[0][2]) == OID_NAMEVALUE:
                    name, value = namevalue(b[x[-1][1]:x[-1][2]])
                    info["attributes"][name] = value
    return info


def namevalue(der):
    """CatNameValue: BMPString tag (UTF-16BE), INTEGER flags, OCTET STRING UTF-16LE value."""
    _, s, e = tlv(der, 0)
    p = children(der, s, e)
    name = der[p[0][1]:p[0][2]].decode("utf-16-be")
    flags = int.from_bytes(der[p[1][1]:p[1][2]], "big")
    value = der[p[2][1]:p[2][2]].decode("utf-16-le").rstrip("\0")
    assert flags == 0x10010001, hex(flags)
    return name, value


EMPTY_LINK = b"\xa2\x02\x80\x00"  # SpcLink file [2] { unicode [0] "" }


def indirect_digest(der):
    """(data type, digest algorithm, digest, the SpcLink file value's DER)."""
    _, s, e = tlv(der, 0)
    data, digest_info = children(der, s, e)[:2]
    d = children(der, data[1], data[2])
    dtype = oid(der, d[0][1], d[0][2])
    value = d[1]
    if dtype == OID_PE_IMAGE:  # SpcPeImageData { flags, file [0] EXPLICIT SpcLink }
        f = [c for c in children(der, value[1], value[2]) if c[0] == 0xA0][0]
        link = der[f[1]:f[2]]
    else:  # the SpcLink itself
        link = der[value[3]:value[2]]
    di = children(der, digest_info[1], digest_info[2])
    alg = oid(der, *children(der, di[0][1], di[0][2])[0][1:3])
    return dtype, alg, der[di[1][1]:di[1][2]], link


def authenticode(path, alg):
    import pefile
    data = open(path, "rb").read()
    pe = pefile.PE(data=data, fast_load=True)
    ck = pe.OPTIONAL_HEADER.get_file_offset() + 64
    sec = pe.OPTIONAL_HEADER.DATA_DIRECTORY[4]
    cd = sec.get_file_offset()
    end = sec.VirtualAddress if sec.VirtualAddress else len(data)
    h = hashlib.new(alg)
    h.update(data[:ck]); h.update(data[ck + 4:cd]); h.update(data[cd + 8:end])
    h.update(b"\0" * ((8 - end % 8) % 8))
    return h.digest()


def is_pe(path):
    b = open(path, "rb").read(4096)
    if b[:2] != b"MZ" or len(b) < 64:
        return False
    off = int.from_bytes(b[0x3C:0x40], "little")
    return b[off:off + 4] == b"PE\0\0"


def check(cat, files, os_attr=None, member_osattr=None):
    info = parse_catalog(cat)
    v = info["version"]
    tags = [m["tag"] for m in info["members"]]
    assert tags == sorted(tags), "members are not sorted by tag"
    assert len(set(tags)) == len(tags), "duplicate tags"
    by_tag = {m["tag"]: m for m in info["members"]}
    if os_attr is not None:
        assert info["attributes"].get("OS") == os_attr, f"OS attribute {info['attributes'].get('OS')!r}, expected {os_attr!r}"
    for f in files:
        pe = is_pe(f)
        alg = "sha1" if v == 1 else "sha256"
        digest = authenticode(f, alg) if pe else hashlib.new(alg, open(f, "rb").read()).digest()
        tag = (digest.hex().upper() + "\0").encode("utf-16-le") if v == 1 else digest
        assert tag in by_tag, f"{f}: {alg} {digest.hex()} is not a member"
        m = by_tag[tag]
        names = dict(namevalue(x[2]) for x in m["attrs"][OID_NAMEVALUE])
        assert names.get("File", "").lower() == os.path.basename(f).lower(), (f, names)
        assert "OSAttr" in names, f"{f}: no OSAttr"
        if member_osattr is not None:
            assert names["OSAttr"] == member_osattr, f"{f}: OSAttr {names['OSAttr']!r}, expected {member_osattr!r}"
        dtype, dalg, dig, link = indirect_digest(m["attrs"][OID_INDIRECT][0][2])
        assert dig == digest, f"{f}: indirect data digest differs from the tag"
        assert dtype == (OID_PE_IMAGE if pe else OID_CAB_DATA), f"{f}: wrong SIP data type {dtype}"
        if not link.startswith(b"\xa1"):  # [1] moniker: page hashes
            assert link == EMPTY_LINK, f"{f}: SpcLink {link.hex()}, makecat writes an empty one"
        if v == 1:
            mi = m["attrs"][OID_MEMBERINFO][0][2]
            _, s, e = tlv(mi, 0)
            p = children(mi, s, e)
            guid = mi[p[0][1]:p[0][2]].decode("utf-16-be")
            assert guid == (PE_GUID if pe else FLAT_GUID), f"{f}: SIP {guid}"
            assert int.from_bytes(mi[p[1][1]:p[1][2]], "big") == 512
        else:
            mi2 = m["attrs"][OID_MEMBERINFO2][0]
            assert mi2[2] == bytes([0x80 if pe else 0x82, 0]), f"{f}: MEMBERINFO2 {mi2[2].hex()}"
            compat = authenticode(f, "sha1") if pe else hashlib.sha1(open(f, "rb").read()).digest()
            assert compat in by_tag, f"{f}: no SHA-1 compatibility entry"
            c = by_tag[compat]
            assert set(c["attrs"]) == {OID_MEMBERINFO2, OID_NAMEVALUE}, "compat entry attributes"
            assert c["attrs"][OID_MEMBERINFO2][0][2] == mi2[2], "compat entry MEMBERINFO2"
            cnames = dict(namevalue(x[2]) for x in c["attrs"][OID_NAMEVALUE])
            assert cnames == names, f"{f}: compat entry File/OSAttr {cnames} differ from {names}"
        print(f"member {os.path.basename(f)}: {digest.hex().upper()} ({'pe' if pe else 'flat'})")
    expected = len(files) * (2 if v == 2 else 1)
    assert len(info["members"]) == expected, f"{len(info['members'])} members, expected {expected}"
    print(f"catalog v{v}: {len(info['members'])} members, attributes {info['attributes']}")


def main():
    cmd = sys.argv[1]
    if cmd == "authenticode":
        print(authenticode(sys.argv[2], sys.argv[3]).hex().upper())
    elif cmd == "check":
        args, opts = sys.argv[3:], {}
        while args and args[0] in ("--os", "--osattr"):
            opts[args[0]] = args[1]
            args = args[2:]
        check(sys.argv[2], args, opts.get("--os"), opts.get("--osattr"))
    elif cmd == "dump":
        info = parse_catalog(sys.argv[2])
        print(json.dumps({"version": info["version"], "signers": info["signers"],
                          "attributes": info["attributes"],
                          "tags": [m["tag"].hex() for m in info["members"]],
                          "files": sorted(dict(namevalue(x[2]) for x in m["attrs"].get(OID_NAMEVALUE, []))
                                          .get("File", "") for m in info["members"]
                                          if OID_NAMEVALUE in m["attrs"]),
                          "tag_texts": [m["tag"].decode("utf-16-le").rstrip("\0")
                                        for m in info["members"] if info["version"] == 1]},
                         indent=1))
    elif cmd == "ctl":
        print(parse_catalog(sys.argv[2])["ctl_der"].hex())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
