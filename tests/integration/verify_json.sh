#!/usr/bin/env bash
# JSON reports stay valid JSON whatever bytes a file name holds: quotes, backslashes, control
# characters and bytes that are not UTF-8 (written as \ufffd). Each report is parsed by
# Debian's python3 json module and the decoded names are compared with what was given.
. "$(dirname "$0")/../lib.sh"
: "${TOASTPKG:?set TOASTPKG to the staged test package}"

# a file name with a quote, a backslash, a tab, a newline, an invalid UTF-8 byte (0xFF),
# an overlong slash (0xC0 0xAF), a lone surrogate (0xED 0xA0 0x80) and a valid e-acute
behaviour_odd_file_name() {
local odd want_name
odd=$(printf 'a"b\\c\td\ne\xffo\xc0\xafs\xed\xa0\x80\xc3\xa9.sys')
cp "$DRIVERS/toaster.sys" "$WORK/$odd"
check "sign a file with an odd name" "$DRVSIGN" sign "${LEAF[@]}" "$WORK/$odd"

want_name=$'a"b\\c\td\ne\ufffdo\ufffd\ufffds\ufffd\ufffd\ufffd\u00e9.sys'
export want_name
check "verify --json: valid JSON, the name escaped, invalid bytes as U+FFFD" json_is 0 '
import os
f = r["files"][0]
assert r["verified"] and f["verified"], r
assert os.path.basename(f["file"]) == os.environ["want_name"], ascii(f["file"])
' ds_verify --json "$WORK/$odd"
MS_ROOTS=$(cd "$(dirname "$0")/../../.." && pwd)/shared/reference/ms-roots.pem
check "verify --json against another root: exit 1, valid JSON, verified false, the problem said" json_is 1 '
f = r["files"][0]
assert not f["verified"] and "chain" in f["signatures"][0]["problem"], f
' "$DRVSIGN" verify --ca "$MS_ROOTS" --json "$WORK/$odd"
check "inspect --json: valid JSON with the escaped name" json_is 0 '
import os
assert os.path.basename(r["files"][0]["file"]) == os.environ["want_name"], r
' "$DRVSIGN" inspect --json "$WORK/$odd"
check "the JSON report is strict UTF-8 (python decodes it strictly)" bash -c "
  '$DRVSIGN' verify --ca '$PKI/root.pem' --json \"\$1\" >'$WORK/strict.json' &&
  $PY -c 'import sys; open(sys.argv[1], \"rb\").read().decode(\"utf-8\", \"strict\")' '$WORK/strict.json'" _ "$WORK/$odd"

}

# issue 13: verify --package on a directory named pkg"x
behaviour_odd_package_names() {
local pkg badpkg
pkg="$WORK/pkg\"x"
cp -r "$TOASTPKG" "$pkg"
check "catalog the package in pkg\"x" "$DRVSIGN" catalog --quiet --driver "$pkg" --os 10_X64 --time 1700000000
check "sign its catalog" "$DRVSIGN" sign "${LEAF[@]}" "$pkg/tstamd64.cat"
export pkg
check "verify --package 'pkg\"x' --json: valid JSON naming the package" json_is 0 '
import os
assert r["package"] == os.environ["pkg"], r
assert r["verified"] and r["catalogs"], r
' ds_verify --package "$pkg" --json
badpkg=$(printf '%s/pkg\xfe' "$WORK")
cp -r "$pkg" "$badpkg"
export badpkg
check "verify --package on a non-UTF-8 directory name: valid JSON, U+FFFD" json_is 0 '
assert r["package"].endswith("pkg\ufffd"), ascii(r["package"])
assert all("\ufffd" in c["catalog"]["file"] for c in r["catalogs"]), r
' ds_verify --package "$badpkg" --json
}

run_behaviours "$@"
