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
# Tests never read or fill the user's helper cache (~/.cache/drvsign): a helper left there by an
# earlier run would change which helper a CMake test uses. Each script gets a cache of its own.
export DRVSIGN_HELPER_CACHE="$WORK/helper-cache"
passed=0
failed=0

_report() { # status description logfile; returns 0 for ok, 1 for a failure
  if [ "$1" = ok ]; then
    passed=$((passed + 1))
    echo "ok   - $2"
    return 0
  fi
  failed=$((failed + 1))
  echo "FAIL - $2"
  [ -s "$3" ] && sed 's/^/       | /' "$3" | head -n 30
  return 1
}

# Exit codes: 0 success, 1 rejected input or a failed check, 2 a usage error. A sanitizer finding
# exits 86 (ASan) or 87 (UBSan), so a negative check names the one code it expects and never
# accepts "non-zero".

# exits CODE CMD...: CMD exits with exactly CODE (its output passes through)
exits() {
  local want=$1 rc
  shift
  "$@"
  rc=$?
  [ "$rc" -eq "$want" ] && return 0
  echo "(exit code $rc, wanted $want)"
  return 1
}

# lacks REGEX CMD...: CMD succeeds and no line of its output matches REGEX
lacks() {
  local re=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -ne 0 ]; then
    echo "(exit code $rc, wanted 0)"
    return 1
  fi
  if printf '%s\n' "$out" | grep -Eq -- "$re"; then
    echo "(output matches: $re)"
    return 1
  fi
}

# exits_flat CODE REGEX CMD...: CMD exits with CODE, and its output with the lines joined and the
# spaces squeezed matches REGEX (for messages a tool wraps, as CMake does)
exits_flat() {
  local want=$1 re=$2 out rc
  shift 2
  out=$("$@" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  [ "$rc" -eq "$want" ] || { echo "(exit code $rc, wanted $want)"; return 1; }
  printf '%s' "$out" | tr '\n' ' ' | tr -s ' ' | grep -Eq -- "$re" || { echo "(output does not match: $re)"; return 1; }
}

# silent CMD...: CMD succeeds and prints nothing at all
silent() {
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  printf '%s' "$out"
  [ "$rc" -eq 0 ] || { echo "(exit code $rc, wanted 0)"; return 1; }
  [ -z "$out" ] || { echo "(wanted no output)"; return 1; }
}

# json_is CODE PYTHON CMD...: CMD exits CODE and prints valid JSON on stdout, and the Python
# statements PYTHON (the parsed document is `r`) run without an assertion failing
json_is() {
  local want=$1 code=$2 rc
  shift 2
  "$@" >"$WORK/.json"
  rc=$?
  [ "$rc" -eq "$want" ] || { echo "(exit code $rc, wanted $want)"; return 1; }
  $PY -c "import json, sys
r = json.load(open(sys.argv[1]))
$code" "$WORK/.json" || { echo "(JSON:)"; head -c 2000 "$WORK/.json"; return 1; }
}

# check DESCRIPTION CMD...: CMD must succeed
check() {
  local d=$1
  shift
  if "$@" >"$WORK/.log" 2>&1; then _report ok "$d" "$WORK/.log"; else _report fail "$d" "$WORK/.log"; fi
}

# check_exit DESCRIPTION CODE CMD...: CMD must exit with CODE
check_exit() {
  local d=$1
  shift
  check "$d" exits "$@"
}

# check_error DESCRIPTION CODE REGEX CMD...: CMD must exit with CODE and its combined output
# match REGEX (grep -E)
check_error() {
  local d=$1 want=$2 re=$3 rc
  shift 3
  "$@" >"$WORK/.log" 2>&1
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "(exit code $rc, wanted $want)" >>"$WORK/.log"
    _report fail "$d" "$WORK/.log"
  elif ! grep -Eq -- "$re" "$WORK/.log"; then
    echo "(output does not match: $re)" >>"$WORK/.log"
    _report fail "$d" "$WORK/.log"
  else
    _report ok "$d" "$WORK/.log"
  fi
}

# check_output DESCRIPTION REGEX CMD...: CMD must succeed and its combined output match REGEX
# (for a command that is meant to fail, use check_error with its exit code)
check_output() {
  local d=$1 re=$2
  shift 2
  check_error "$d" 0 "$re" "$@"
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
# oss_rejects FILE [args]: osslsigncode verify refuses FILE (it exits 1 for a bad signature)
oss_rejects() { exits 1 oss_verify "$@"; }
# osslsigncode accepts FILE and its timestamp, both against the test PKI's root
oss_verify_ts() {
  osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -in "$1" >"$WORK/.oss-ts.log" 2>&1
  local rc=$?
  cat "$WORK/.oss-ts.log"
  [ $rc -eq 0 ] && grep -q 'Timestamp Server Signature verification: ok' "$WORK/.oss-ts.log"
}
# pefile_checksum_ok FILE: pefile's checksum equals the stored one (exit 1 if not, 2 if pefile
# cannot read the file, so `exits 1 pefile_checksum_ok` means "readable, and the checksum is wrong")
pefile_checksum_ok() {
  $PY - "$1" <<'PY'
import sys, pefile
try:
    pe = pefile.PE(sys.argv[1], fast_load=True)
    stored, computed = pe.OPTIONAL_HEADER.CheckSum, pe.generate_checksum()
except Exception as e:
    print(f"pefile cannot read {sys.argv[1]}: {e}")
    sys.exit(2)
print(f"stored 0x{stored:08X} computed 0x{computed:08X}")
sys.exit(0 if stored == computed else 1)
PY
}
ds_verify() { "$DRVSIGN" verify --ca "$PKI/root.pem" "$@"; }
# ds_rejects FILE... [options]: drvsign verify, with the test root, refuses (exit 1)
ds_rejects() { exits 1 ds_verify "$@"; }
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
