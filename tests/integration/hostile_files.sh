#!/usr/bin/env bash
# Hostile files and runs (issue 12): FIFOs, symlinked inputs, signals and SIGKILL mid-sign,
# concurrent --append, names of 247-255 bytes, and the durability of in-place signing.
# Every input is made here; every refusal must exit 1 exactly.
. "$(dirname "$0")/../lib.sh"
export LC_ALL=C.UTF-8

no_temp_left() { # DIR: no drvsign temp file (<name>.dsXXXXXX) remains
  lacks '\.ds[A-Za-z0-9]{6}$' ls -A "$1"
}

# ---- FIFOs: refused at once (timeout's 124 would mean a hang), nothing left behind ----
behaviour_fifos() {
mkdir -p "$WORK/fifo/pkg"
mkfifo "$WORK/fifo/in.sys"
check_exit "sign: a FIFO is refused, not waited on" 1 \
  timeout 20 "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/fifo/in.sys"
check_error "sign: the FIFO is named as such" 1 "in.sys: not a regular file \(a FIFO\)" \
  timeout 20 "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/fifo/in.sys"
check_exit "verify: a FIFO is refused" 1 timeout 20 "$DRVSIGN" verify --ca "$PKI/root.pem" "$WORK/fifo/in.sys"
mkfifo "$WORK/fifo/key.pem"
check_exit "sign: a FIFO as the key file is refused" 1 \
  timeout 20 "$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$WORK/fifo/key.pem" "$DRIVERS/toaster.sys" --out "$WORK/fifo/o.sys"
cp "$DRIVERS/toaster.sys" "$WORK/fifo/ts.sys"
check_exit "sign: a FIFO as --timestamp-ca-file is refused" 1 \
  timeout 20 "$DRVSIGN" sign --quiet "${LEAF[@]}" --timestamp https://127.0.0.1:9/ \
  --timestamp-ca-file "$WORK/fifo/key.pem" "$WORK/fifo/ts.sys"
cp -r "$TOASTPKG" "$WORK/fifo/pkg/toastpkg"
mkfifo "$WORK/fifo/pkg/toastpkg/notes.txt"
check_exit "cab: a FIFO in the package is refused" 1 \
  timeout 20 "$DRVSIGN" cab --quiet --out "$WORK/fifo/out.cab" "$WORK/fifo/pkg/toastpkg"
check_error "cab: the FIFO is named" 1 "notes.txt: is a FIFO" \
  timeout 20 "$DRVSIGN" cab --quiet --out "$WORK/fifo/out.cab" "$WORK/fifo/pkg/toastpkg"
check "cab: no cabinet after the refusal" test ! -e "$WORK/fifo/out.cab"
check "cab: ... and no temp file" lacks '\.ds' ls -A "$WORK/fifo"
mkdir -p "$WORK/fifo/infpkg"
mkfifo "$WORK/fifo/infpkg/x.inf"
check_exit "catalog: a FIFO as the INF is refused" 1 \
  timeout 20 "$DRVSIGN" catalog --quiet --driver "$WORK/fifo/infpkg" --os 10_X64
}

# ---- signing a symlink signs its target; the link stays a link ----
behaviour_symlink() {
mkdir -p "$WORK/link/real"
cp "$DRIVERS/toaster.sys" "$WORK/link/real/toaster.sys"
ln -s real/toaster.sys "$WORK/link/toaster.sys"
check "sign: through a symlink" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/link/toaster.sys"
check "sign: the link is still a symlink to the same file" \
  bash -c "[ -L '$WORK/link/toaster.sys' ] && [ \"\$(readlink '$WORK/link/toaster.sys')\" = real/toaster.sys ]"
check "sign: the target is signed (osslsigncode)" oss_verify "$WORK/link/real/toaster.sys"
check "sign: no temp file beside the link or the target" lacks '\.ds' ls -A "$WORK/link" "$WORK/link/real"
}

# ---- names of 247 to 255 bytes sign in place (the temp name must still fit) ----
behaviour_long_names() {
local len name uname
mkdir -p "$WORK/long"
for len in 247 250 255; do
  name=$(printf 'n%.0s' $(seq 1 $((len - 4)))).sys
  cp "$DRIVERS/helper.dll" "$WORK/long/$name"
  check "sign in place: a $len-byte name" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/long/$name"
  check "sign in place: the $len-byte name is signed" oss_verify "$WORK/long/$name"
done
# a multi-byte name cut for the temp name stays valid UTF-8 (no half characters)
uname=$(printf '\xc3\xa9%.0s' $(seq 1 125)).sys # 254 bytes
cp "$DRIVERS/helper.dll" "$WORK/long/$uname"
check "sign in place: a 254-byte UTF-8 name" "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/long/$uname"
check "no temp file left by long names" no_temp_left "$WORK/long"
}

# ---- signals and SIGKILL mid-sign ----
# A timestamp server that accepts and never answers holds drvsign inside the signing step,
# after its temp file exists, for as long as the test needs. Sets silent and silent_pid.
start_silent_server() {
$PY - "$WORK/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
PY
silent_pid=$!
for _ in $(seq 100); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
silent="http://127.0.0.1:$(cat "$WORK/silent.port")/"
}

# start_stuck_sign DIR [env...]: sign DIR/t.sys in place against the silent server, in the
# background with default signal dispositions; sets $pid
start_stuck_sign() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cp "$DRIVERS/toaster.sys" "$dir/t.sys"
  cp "$DRIVERS/toaster.sys" "$dir/orig.sys"
  env --default-signal "$@" "$DRVSIGN" sign --quiet "${LEAF[@]}" --timestamp "$silent" \
    --timestamp-timeout 60 --timestamp-retries 1 "$dir/t.sys" >/dev/null 2>&1 &
  pid=$!
}
# wait_for CMD...: poll for up to 20 s
wait_for() {
  for _ in $(seq 200); do "$@" && return 0; sleep 0.1; done
  return 1
}
has_named_temp() { ls -A "$1" | grep -q '\.ds'; }
has_anonymous_temp() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$2/#[0-9]* (deleted)\|O_TMPFILE"; }

behaviour_signals() {
local sig d rc want
start_silent_server
for sig in TERM INT HUP; do
  d=$WORK/sig-$sig
  start_stuck_sign "$d" DRVSIGN_NAMED_TEMP=1
  if wait_for has_named_temp "$d"; then
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    want=$((128 + $(kill -l "$sig")))
    check "SIG$sig mid-sign: killed by the signal (exit $rc)" test "$rc" -eq "$want"
    check "SIG$sig mid-sign: the temp file is removed" no_temp_left "$d"
    check "SIG$sig mid-sign: the input is untouched" same_bytes "$d/t.sys" "$d/orig.sys"
  else
    kill -9 "$pid" 2>/dev/null
    check "SIG$sig mid-sign: a named temp file appeared while stuck" false
  fi
done

# O_TMPFILE: the temp file has no name, so even SIGKILL leaves nothing
d=$WORK/sig-KILL
start_stuck_sign "$d"
if wait_for has_anonymous_temp "$pid" "$d"; then
  check "SIGKILL mid-sign: no named temp file while signing" no_temp_left "$d"
  kill -9 "$pid"
  wait "$pid"
  check "SIGKILL mid-sign: nothing left behind" bash -c "[ \"\$(ls -A '$d' | sort | tr '\n' ' ')\" = 'orig.sys t.sys ' ]"
  check "SIGKILL mid-sign: the input is untouched" same_bytes "$d/t.sys" "$d/orig.sys"
else
  kill -9 "$pid" 2>/dev/null
  check "SIGKILL mid-sign: the temp file is anonymous (O_TMPFILE)" false
fi
# SIGTERM with the anonymous temp file too
d=$WORK/sig-TERM-anon
start_stuck_sign "$d"
if wait_for has_anonymous_temp "$pid" "$d"; then
  kill -TERM "$pid"
  wait "$pid"
  check "SIGTERM (O_TMPFILE) mid-sign: nothing left behind" no_temp_left "$d"
else
  kill -9 "$pid" 2>/dev/null
  check "SIGTERM (O_TMPFILE): the temp file is anonymous" false
fi
kill "$silent_pid" 2>/dev/null
wait "$silent_pid" 2>/dev/null
}

# ---- concurrent --append on one file: both nested signatures survive ----
# A large overlay makes each run take long enough that, unlocked, both would read the same
# original; the lock makes the second wait and nest on the first's result.
behaviour_concurrent_append() {
local a b ra rb
mkdir -p "$WORK/lock"
cp "$DRIVERS/toaster.sys" "$WORK/lock/big.sys"
head -c $((64 << 20)) /dev/zero >>"$WORK/lock/big.sys"
"$DRVSIGN" sign --quiet "${LEAF[@]}" --digest sha1 "$WORK/lock/big.sys"
"$DRVSIGN" sign --quiet "${LEAF[@]}" --append --digest sha256 "$WORK/lock/big.sys" &
a=$!
"$DRVSIGN" sign --quiet "${LEAF[@]}" --append --digest sha256 "$WORK/lock/big.sys" &
b=$!
wait "$a"
ra=$?
wait "$b"
rb=$?
check "concurrent --append: both runs succeed ($ra, $rb)" test "$ra$rb" = 00
check_output "concurrent --append: three signatures (primary and two nested)" \
  "^  signature 3 \(nested\): valid" ds_verify "$WORK/lock/big.sys"
check "concurrent --append: osslsigncode accepts the file" oss_verify "$WORK/lock/big.sys"
}

# ---- durability: in place, fsync the file and the directory around the rename; a new
# output beside an untouched input is renamed without a sync on the critical path ----
behaviour_durability() {
mkdir -p "$WORK/sync"
cp "$DRIVERS/toaster.sys" "$WORK/sync/t.sys"
strace -f -qq -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$WORK/sync/inplace.trace" \
  "$DRVSIGN" sign --quiet "${LEAF[@]}" "$WORK/sync/t.sys" >/dev/null 2>&1
check "in place: fsync, fsync (directory), rename, fsync (directory), in that order" \
  bash -c "grep -Eo '(fsync|rename[a-z0-9]*)\(' '$WORK/sync/inplace.trace' | tr -d '(' | tr '\n' ' ' | grep -qx 'fsync fsync rename fsync '"
strace -f -qq -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$WORK/sync/out.trace" \
  "$DRVSIGN" sign --quiet "${LEAF[@]}" --out "$WORK/sync/new.sys" "$WORK/sync/t.sys" >/dev/null 2>&1
check "new output: renamed into place" grep -q 'rename' "$WORK/sync/out.trace"
check_exit "... with no fsync" 1 grep -q 'fsync' "$WORK/sync/out.trace"
check "new output: signed (osslsigncode)" oss_verify "$WORK/sync/new.sys"
}

run_behaviours "$@"
