#!/usr/bin/python3
"""A catalog in Partner Center's style, from a writer that shares nothing with drvsign: the
catalog attributes Microsoft's hardware dashboard writes (Qualification Level, DTC, Submission
ID, BundleID, Universal, Declarative, OS, HWIDn), and members in either catalog version:

  pccat.py 1 OUT.cat FILE...   v1: SHA-1 members, CAT_MEMBERINFO (what Partner Center issues)
  pccat.py 2 OUT.cat FILE...   v2: SHA-256 members with CAT_MEMBERINFO2, plus makecat's
                               automatic SHA-1 compat member for every file
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from catcheck import authenticode, is_pe  # noqa: E402
from makecat import EMPTY_LINK, NULL, bmp, der, der_set, integer, member, namevalue, oid, seq  # noqa: E402

ATTRIBUTES = [
    ("Qualification Level", "1000"),
    ("DTC", "1"),
    ("Submission ID", "29483015_14385812345678901_1152921505694383921"),
    ("BundleID", "{5B5F3A2E-8C1D-4E7B-9A41-2D6C0F8E9B13}"),
    ("Universal", "True"),
    ("Declarative", "True"),
    ("OS", "_v100_X64_21H2,_v100_X64_22H2"),
    ("HWID1", "usb\\vid_0489&pid_e0d6"),
    ("HWID2", "{b85b7c50-6a01-11d2-b841-00c04fad5171}\\mstoaster"),
]


def member_v2(path, alg):
    """A v2 member for alg (sha256, or the sha1 compat entry): raw digest tag, MEMBERINFO2."""
    pe = is_pe(path)
    digest = authenticode(path, alg) if pe else hashlib.new(alg, open(path, "rb").read()).digest()
    info2 = seq(oid("1.3.6.1.4.1.311.12.2.3"), der(0x31, bytes([0x80 if pe else 0x82, 0])))
    if alg == "sha1":
        return digest, seq(der(0x04, digest), der_set(info2))
    if pe:
        data = seq(oid("1.3.6.1.4.1.311.2.1.15"), seq(der(0x03, b"\x05\xa0"), der(0xA0, EMPTY_LINK)))
    else:
        data = seq(oid("1.3.6.1.4.1.311.2.1.25"), EMPTY_LINK)
    indirect = seq(data, seq(seq(oid("2.16.840.1.101.3.4.2.1"), NULL), der(0x04, digest)))
    attrs = der_set(
        seq(oid("1.3.6.1.4.1.311.12.2.1"), der_set(namevalue("File", os.path.basename(path)))),
        seq(oid("1.3.6.1.4.1.311.12.2.1"), der_set(namevalue("OSAttr", "2:10.0"))),
        info2,
        seq(oid("1.3.6.1.4.1.311.2.1.4"), der_set(indirect)))
    return digest, seq(der(0x04, digest), attrs)


def main():
    version, out, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if version == 1:
        members = sorted(member(f) for f in files)
        algorithm = "1.3.6.1.4.1.311.12.1.2"
    else:
        members = sorted([member_v2(f, "sha256") for f in files] + [member_v2(f, "sha1") for f in files])
        algorithm = "1.3.6.1.4.1.311.12.1.3"
    extensions = seq(*(seq(oid("1.3.6.1.4.1.311.12.2.1"), der(0x04, namevalue(n, v))) for n, v in ATTRIBUTES))
    ctl = seq(
        seq(oid("1.3.6.1.4.1.311.12.1.1")),
        der(0x04, bytes.fromhex("7d2a1f0e5c4b3a29188776655443322a")),
        der(0x17, b"221014093012Z"),
        seq(oid(algorithm), NULL),
        seq(*(m for _, m in members)),
        der(0xA0, extensions))
    signed_data = seq(integer(1), der(0x31, b""), seq(oid("1.3.6.1.4.1.311.10.1"), der(0xA0, ctl)),
                      der(0x31, b""))
    open(out, "wb").write(seq(oid("1.2.840.113549.1.7.2"), der(0xA0, signed_data)))


if __name__ == "__main__":
    main()
