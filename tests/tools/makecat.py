#!/usr/bin/python3
"""A catalog writer that shares nothing with drvsign, for testing that drvsign signs catalogs
made by other tools. It writes the choices Partner Center makes (reference 2.4: empty SpcLink
strings, a random list identifier) rather than drvsign's.

  makecat.py OUT.cat FILE...
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from catcheck import authenticode, is_pe  # noqa: E402


def der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def oid(dotted):
    p = [int(x) for x in dotted.split(".")]
    out = bytes([p[0] * 40 + p[1]])
    for v in p[2:]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return der(0x06, out)


def seq(*items):
    return der(0x30, b"".join(items))


def der_set(*items):
    return der(0x31, b"".join(sorted(items)))


def integer(v):
    return der(0x02, v.to_bytes((v.bit_length() + 8) // 8, "big"))


def bmp(text):
    return der(0x1E, text.encode("utf-16-be"))


NULL = b"\x05\x00"
EMPTY_LINK = b"\xa2\x02\x80\x00"  # file [2] { unicode [0] "" }


def namevalue(name, value):
    return seq(bmp(name), integer(0x10010001), der(0x04, (value + "\0").encode("utf-16-le")))


def member(path):
    pe = is_pe(path)
    digest = authenticode(path, "sha1") if pe else hashlib.sha1(open(path, "rb").read()).digest()
    if pe:
        data = seq(oid("1.3.6.1.4.1.311.2.1.15"), seq(der(0x03, b"\x05\xa0"), der(0xA0, EMPTY_LINK)))
        guid = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}"
    else:
        data = seq(oid("1.3.6.1.4.1.311.2.1.25"), EMPTY_LINK)
        guid = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}"
    indirect = seq(data, seq(seq(oid("1.3.14.3.2.26"), NULL), der(0x04, digest)))
    attrs = der_set(
        seq(oid("1.3.6.1.4.1.311.12.2.1"), der_set(namevalue("File", os.path.basename(path)))),
        seq(oid("1.3.6.1.4.1.311.12.2.1"), der_set(namevalue("OSAttr", "2:10.0"))),
        seq(oid("1.3.6.1.4.1.311.12.2.2"), der_set(seq(bmp(guid), integer(512)))),
        seq(oid("1.3.6.1.4.1.311.2.1.4"), der_set(indirect)))
    tag = (digest.hex().upper() + "\0").encode("utf-16-le")
    return tag, seq(der(0x04, tag), attrs)


def main():
    out, files = sys.argv[1], sys.argv[2:]
    members = sorted(member(f) for f in files)
    ctl = seq(
        seq(oid("1.3.6.1.4.1.311.12.1.1")),
        der(0x04, os.urandom(16)),
        der(0x17, b"240101120000Z"),
        seq(oid("1.3.6.1.4.1.311.12.1.2"), NULL),
        seq(*(m for _, m in members)),
        der(0xA0, seq(seq(oid("1.3.6.1.4.1.311.12.2.1"), der(0x04, namevalue("OS", "_v100_X64"))))))
    signed_data = seq(integer(1), der(0x31, b""), seq(oid("1.3.6.1.4.1.311.10.1"), der(0xA0, ctl)),
                      der(0x31, b""))
    open(out, "wb").write(seq(oid("1.2.840.113549.1.7.2"), der(0xA0, signed_data)))


if __name__ == "__main__":
    main()
