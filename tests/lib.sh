# Shared helpers for drvsign's integration tests (sourced, bash).
# Each test script: source this, run checks, end with `finish`. Every check prints one line;
# the summary line "N passed, N failed" is what CTest and CI read.
set -uo pipefail
: "${DRVSIGN:?set DRVSIGN to the drvsign binary}"
: "${PKI:?set PKI to the test PKI directory}"
: "${DRIVERS:?set DRIVERS to the built test binaries}"
PY=/usr/bin/python3 # Debian's python, which sees python3-pefile
WORK=$(mktemp -d "${TMPDIR:-/tmp}/drvsign-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

_report() { # status description logfile
  if [ "$1" = ok ]; then
    passed=$((passed + 1))
    echo "ok   - $2"
  else
    failed=$((failed + 1))
    echo "FAIL - $2"
    [ -s "$3" ] && sed 's/^/       | /' "$3" | head -n 30
  fi
}

# check DESCRIPTION CMD...: CMD must succeed
check() {
  local d=$1
  shift
  if "$@" >"$WORK/.log" 2>&1; then _report ok "$d" "$WORK/.log"; else _report fail "$d" "$WORK/.log"; fi
}

# check_exit DESCRIPTION CODE CMD...: CMD must exit with CODE
check_exit() {
  local d=$1 want=$2 rc
  shift 2
  "$@" >"$WORK/.log" 2>&1
  rc=$?
  if [ "$rc" -eq "$want" ]; then
    _report ok "$d" "$WORK/.log"
  else
    echo "(exit code $rc, wanted $want)" >>"$WORK/.log"
    _report fail "$d" "$WORK/.log"
  fi
}

# check_output DESCRIPTION REGEX CMD...: CMD's combined output must match REGEX (exit code ignored)
check_output() {
  local d=$1 re=$2
  shift 2
  "$@" >"$WORK/.log" 2>&1
  if grep -Eq -- "$re" "$WORK/.log"; then
    _report ok "$d" "$WORK/.log"
  else
    echo "(output does not match: $re)" >>"$WORK/.log"
    _report fail "$d" "$WORK/.log"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# independent verifiers
oss_verify() { # FILE [extra osslsigncode args]
  local f=$1
  shift
  osslsigncode verify -CAfile "$PKI/root.pem" "$@" -in "$f"
}
oss_rejects() { ! oss_verify "$@"; }
# osslsigncode accepts FILE and its timestamp, both against the test PKI's root
oss_verify_ts() {
  osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -in "$1" >"$WORK/.oss-ts.log" 2>&1
  local rc=$?
  cat "$WORK/.oss-ts.log"
  [ $rc -eq 0 ] && grep -q 'Timestamp Server Signature verification: ok' "$WORK/.oss-ts.log"
}
pefile_checksum_ok() {
  $PY - "$1" <<'PY'
import sys, pefile
pe = pefile.PE(sys.argv[1], fast_load=True)
stored, computed = pe.OPTIONAL_HEADER.CheckSum, pe.generate_checksum()
print(f"stored 0x{stored:08X} computed 0x{computed:08X}")
sys.exit(0 if stored == computed else 1)
PY
}
ds_verify() { "$DRVSIGN" verify --ca "$PKI/root.pem" "$@"; }
ds_rejects() { ! ds_verify "$@"; }
# the signer options for the test PKI's good leaf
LEAF=(--cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key")
same_bytes() { cmp -s "$1" "$2"; }
# flip one byte at OFFSET (decimal) of FILE
flip_byte() {
  $PY - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xFF]))
PY
}
# pe_field FILE EXPR: print an integer pefile computes (EXPR uses `pe`), e.g. text section offset
pe_field() {
  $PY - "$1" "$2" <<'PY'
import sys, pefile
pe = pefile.PE(sys.argv[1])
print(eval(sys.argv[2]))
PY
}
# put_u32 FILE OFFSET VALUE / put_u16: overwrite a little-endian field
put_u32() { $PY -c 'import sys,struct; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<I", int(sys.argv[3],0)))' "$@"; }
put_u16() { $PY -c 'import sys,struct; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<H", int(sys.argv[3],0)))' "$@"; }
