# Shared helpers for drvsign's integration tests (sourced, bash).
# Each test script sources this. Every check prints one line; the summary line
# "N passed, N failed" is what CTest and CI read.
#
# A script is a set of behaviours (see run_behaviours below): one function per behaviour,
#   behaviour_NAME() {
# at the start of a line, exactly so: tests/CMakeLists.txt reads these lines at configure time
# and registers one CTest entry, integration.SCRIPT.NAME, per behaviour. The script ends with
# `run_behaviours "$@"`. (A script not yet split runs its checks at the top level and ends with
# `finish`; it is one CTest entry.)
#
# Setup too costly to repeat in every behaviour (configuring and building a CMake project,
# building a helper) is a fixture: a function
#   fixture_NAME() {
# at the start of a line, that fills the directory $FIXTURE (it starts empty) and fails unless
# all of it is there. tests/CMakeLists.txt registers each as the CTest test fixture.SCRIPT.NAME,
# a FIXTURES_SETUP every behaviour of the script requires, running `SCRIPT.sh --fixture NAME`
# into $DRVSIGN_FIXTURES/NAME. A behaviour calls `fixture NAME` (see below) and only reads what
# is there; what it writes goes to its own WORK.
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

# file_sum FILE...: each file's SHA-256, for "left as it was" checks. A file that is missing or
# unreadable gives a value no other call gives, so such a check fails instead of comparing two
# empty sums of a file that never existed.
file_sum() {
  local f
  for f in "$@"; do
    if [ -f "$f" ] && [ -r "$f" ]; then
      sha256sum <"$f"
    else
      echo "missing: $f ($BASHPID $SRANDOM $SRANDOM)"
    fi
  done
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

# setup DESCRIPTION CMD...: CMD prepares a behaviour's checks; it must succeed. Success is silent
# and no check (a check's count stays what it was before the script was split); a failure is a
# failed check, and returns 1, so `setup ... || return` ends the behaviour there.
setup() {
  local d=$1
  shift
  "$@" >"$WORK/.log" 2>&1 && return 0
  _report fail "setup: $d" "$WORK/.log"
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

# _fill_fixture NAME DIR: DIR emptied, then filled by fixture_NAME; DIR/.filled says it all went
_fill_fixture() {
  rm -rf "$2" && mkdir -p "$2" && (FIXTURE=$2 && "fixture_$1") && touch "$2/.filled"
}

# fixture NAME: FIXTURE is the directory fixture_NAME filled: CTest's fixture.SCRIPT.NAME, or,
# where that did not run (the script run by hand), one filled now in this behaviour's WORK.
# Call it through setup (`setup "..." fixture NAME || return`), so a failure is a failed check.
fixture() {
  local dir=${DRVSIGN_FIXTURES:+$DRVSIGN_FIXTURES/$1}
  if [ -z "$dir" ] || [ ! -e "$dir/.filled" ]; then
    dir=$WORK/fixture-$1
    _fill_fixture "$1" "$dir" || return
  fi
  FIXTURE=$dir
}

# run_behaviours [NAME...|--list|--fixture NAME]: run the behaviours NAME... of the calling
# script, or all of them in the order they are defined, then print the summary and exit with its
# status (--fixture NAME fills fixture NAME instead). Each behaviour runs in a subshell of its
# own, with a WORK (and helper cache) of its own, so it depends on no other having run: setup
# that several share is a helper each one calls (caching only inside its own WORK), or a
# fixture. A behaviour that ran no check, or stopped before its end, fails, and so does a NAME
# the script does not define.
run_behaviours() {
  local script=${BASH_SOURCE[${#BASH_SOURCE[@]} - 1]} root=$WORK name p f ended rc
  local -a names selected defined
  # the same lines tests/CMakeLists.txt registers
  mapfile -t names < <(sed -n 's/^behaviour_\([A-Za-z0-9_]*\)() {.*/\1/p' "$script")
  if [ "${1-}" = --list ]; then
    printf '%s\n' "${names[@]}"
    exit 0
  fi
  if [ "${1-}" = --fixture ]; then
    : "${DRVSIGN_FIXTURES:?set DRVSIGN_FIXTURES to the directory fixtures are filled in}"
    if [[ ! ${2-} =~ ^[A-Za-z0-9_]+$ ]] || ! declare -F "fixture_$2" >/dev/null; then
      echo "$(basename "$script") has no fixture '${2-}'"
      exit 1
    fi
    if ! _fill_fixture "$2" "$DRVSIGN_FIXTURES/$2" >"$root/.fixture.log" 2>&1; then
      tail -n 30 "$root/.fixture.log"
      echo "fixture $2 could not be filled"
      exit 1
    fi
    echo "fixture $2 filled in $DRVSIGN_FIXTURES/$2"
    exit 0
  fi
  # a behaviour function CTest cannot see (written another way) would never run under CTest
  mapfile -t defined < <(declare -F | sed -n 's/^declare -f behaviour_//p')
  for name in "${defined[@]}"; do
    [[ " ${names[*]} " == *" $name "* ]] ||
      _report fail "behaviour_$name is not defined as 'behaviour_$name() {' at the start of a line, so CTest does not see it" /dev/null
  done
  if [ $# -gt 0 ]; then selected=("$@"); else selected=("${names[@]}"); fi
  [ ${#selected[@]} -gt 0 ] || _report fail "$(basename "$script") defines no behaviour" /dev/null
  for name in "${selected[@]}"; do
    if [[ ! $name =~ ^[A-Za-z0-9_]+$ || " ${names[*]} " != *" $name "* ]]; then
      _report fail "$(basename "$script") has no behaviour '$name' (it has: ${names[*]})" /dev/null
      continue
    fi
    echo "# $name"
    mkdir -p "$root/$name"
    # (globals only in the trap: an error under set -u unwinds the locals before it runs)
    (
      WORK=$root/$name
      # (unless the script chose another helper cache, such as OFF)
      [ "$DRVSIGN_HELPER_CACHE" != "$root/helper-cache" ] || export DRVSIGN_HELPER_CACHE=$WORK/helper-cache
      passed=0 failed=0 _behaviour_ended=0
      trap 'echo "$passed $failed $_behaviour_ended" >"$WORK/.counts"' EXIT
      "behaviour_$name"
      _behaviour_ended=1
    )
    rc=$?
    read -r p f ended 2>/dev/null <"$root/$name/.counts" || { p=0 f=0 ended=0; }
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$ended" != 1 ]; then
      _report fail "$name: stopped before its end (exit code $rc)" /dev/null
    elif [ $((p + f)) -eq 0 ]; then
      _report fail "$name: ran no check" /dev/null
    fi
  done
  finish
  exit
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
