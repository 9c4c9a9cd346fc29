#!/usr/bin/python3
"""Compare drvsign verify's verdicts with another view of the same file.

  verdicts.py ossl DRVSIGN.json OSSLSIGNCODE.txt
      drvsign's JSON report against `osslsigncode verify`'s output for the same file: both
      accept or both refuse; when both accept, the same number of signatures and the same
      timestamp times, signature by signature.
  verdicts.py text DRVSIGN.json DRVSIGN.txt
      drvsign's JSON and text reports of one run agree: per signature valid/INVALID, digest,
      timestamp kind, time and TSA.
"""
import datetime
import json
import re
import sys


def signatures(report):
    files = report["files"] if "files" in report else [report["catalog"]]
    assert len(files) == 1, "one file per report"
    return files[0], files[0]["signatures"]


def ossl(json_path, text_path):
    f, sigs = signatures(json.load(open(json_path)))
    text = open(text_path, errors="replace").read()
    ok = bool(re.search(r"^Succeeded$", text, re.M))
    assert f["verified"] == ok, f"drvsign verified={f['verified']}, osslsigncode succeeded={ok}"
    if not ok:
        return
    n = int(re.search(r"Number of verified signatures: (\d+)", text).group(1))
    assert n == len(sigs), f"osslsigncode verified {n} signatures, drvsign reports {len(sigs)}"
    theirs = [datetime.datetime.strptime(t.strip(), "%b %d %H:%M:%S %Y GMT")
              for t in re.findall(r"^\s*Timestamp time: (.*)$", text, re.M)]
    ours = [datetime.datetime.strptime(s["timestamp"]["time"], "%Y-%m-%dT%H:%M:%SZ")
            for s in sigs if "timestamp" in s]
    assert theirs == ours, f"timestamp times differ: osslsigncode {theirs}, drvsign {ours}"


def text(json_path, text_path):
    _, sigs = signatures(json.load(open(json_path)))
    lines = open(text_path, errors="replace").read().splitlines()
    heads = [l for l in lines if re.match(r"  signature \d+", l)]
    stamps = [l for l in lines if re.match(r"    timestamp \S+ \(", l)]
    assert len(heads) == len(sigs), (heads, len(sigs))
    for s, h in zip(sigs, heads):
        m = re.match(r"  signature (\d+)( \(nested\))?: (valid|INVALID), (\S+),", h)
        assert m, h
        assert int(m.group(1)) == s["index"] and bool(m.group(2)) == s["nested"], h
        assert (m.group(3) == "valid") == s["valid"], (h, s["valid"])
        assert m.group(4) == s["digest"], (h, s["digest"])
    stamped = [s["timestamp"] for s in sigs if "timestamp" in s]
    assert len(stamped) == len(stamps), (stamps, stamped)
    for t, l in zip(stamped, stamps):
        want = f'    timestamp {t["time"]} ({t["kind"]}) by "{t["tsa"]}"' + ("" if t["ok"] else ", INVALID")
        assert l == want, (l, want)


if __name__ == "__main__":
    {"ossl": ossl, "text": text}[sys.argv[1]](*sys.argv[2:])
