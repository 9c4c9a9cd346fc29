#!/usr/bin/env bash
# Timestamps against the test TSA (tests/tsa, a CTest fixture on 127.0.0.1): both protocols on
# PE, CAT and CAB files checked by osslsigncode, failover, retries, every bad reply, expired
# signers, drvsign timestamp, HTTPS and proxies.
. "$(dirname "$0")/../lib.sh"
: "${TSA_STATE:?}" "${TOASTPKG:?}"
read -r port tls_port <"$TSA_STATE/port"
TSA=http://127.0.0.1:$port
TSAS=https://127.0.0.1:$tls_port
FAST=(--timestamp-wait 0 --timestamp-timeout 5)
oss_ts() { osslsigncode verify -CAfile "$PKI/root.pem" -TSA-CAfile "$PKI/root.pem" -in "$1"; }

# the package, its catalog and a cabinet of it, in this behaviour's WORK
ts_pkg() {
  [ -e "$WORK/pkg.cab" ] && return 0
  cp -r "$TOASTPKG" "$WORK/pkg"
  setup "catalog the package" "$DRVSIGN" catalog --quiet --driver "$WORK/pkg" --os 10_X64 || return
  setup "a cabinet of the package" "$DRVSIGN" cab --quiet --out "$WORK/pkg.cab" "$WORK/pkg"
}
ts_opt() { # kind: the timestamp options of that protocol, into opt
  if [ $1 = rfc3161 ]; then opt=(--timestamp "$TSA/rfc3161"); else opt=(--timestamp-legacy "$TSA/legacy"); fi
}
# ts_signed KIND FILE: FILE signed and timestamped with KIND, as $WORK/KIND-NAME (for the
# behaviours that start from one)
ts_signed() {
  local opt
  ts_opt $1
  setup "$1: sign and timestamp $(basename "$2")" "$DRVSIGN" sign "${LEAF[@]}" "${opt[@]}" "${FAST[@]}" \
    --out "$WORK/$1-$(basename "$2")" "$2"
}

# every signable format, both protocols
formats() { # kind
  local kind=$1 opt f out
  ts_pkg || return
  ts_opt $kind
  for f in "$DRIVERS/toaster.sys" "$WORK/pkg/tstamd64.cat" "$WORK/pkg.cab"; do
    out="$WORK/$kind-$(basename "$f")"
    check "$kind: sign and timestamp $(basename "$f")" "$DRVSIGN" sign "${LEAF[@]}" "${opt[@]}" "${FAST[@]}" --out "$out" "$f"
    check "$kind: osslsigncode verifies the timestamp on $(basename "$f")" bash -c "
      osslsigncode verify -CAfile '$PKI/root.pem' -TSA-CAfile '$PKI/root.pem' -in '$out' >'$WORK/oss.log' 2>&1;
      rc=\$?; cat '$WORK/oss.log'; [ \$rc -eq 0 ] && grep -q 'Timestamp Server Signature verification: ok' '$WORK/oss.log'"
    check_output "$kind: drvsign verify shows the time and the TSA" "timestamp 20[0-9-]+T.*\\($kind\\) by \"CN = drvsign Test TSA\"\$" ds_verify "$out"
  done
}
behaviour_rfc3161_formats() { formats rfc3161; }
behaviour_legacy_formats() { formats legacy; }

behaviour_legacy_certificate_order() {
ts_signed legacy "$DRIVERS/toaster.sys" || return
check "a legacy counter-signature keeps the certificates DER-sorted" bash -c "
  osslsigncode extract-signature -in '$WORK/legacy-toaster.sys' -out '$WORK/legacy.p7' >/dev/null &&
  $PY - '$WORK/legacy.p7' <<'PY'
import subprocess, sys
pem = subprocess.run(['openssl', 'pkcs7', '-inform', 'DER', '-in', sys.argv[1], '-print_certs'], capture_output=True, text=True, check=True).stdout
ders = [subprocess.run(['openssl', 'x509', '-outform', 'DER'], input=(b + '-----END CERTIFICATE-----\n').encode(), capture_output=True, check=True).stdout
        for b in pem.split('-----END CERTIFICATE-----')[:-1]]
sys.exit(0 if len(ders) == 3 and ders == sorted(ders) else 1)
PY"
}
behaviour_verify_json() {
ts_signed rfc3161 "$DRIVERS/toaster.sys" || return
check "verify --json carries the timestamp" json_is 0 '
t = r["files"][0]["signatures"][0]["timestamp"]
assert t["kind"] == "rfc3161" and t["ok"] and "Test TSA" in t["tsa"], t
' ds_verify --json "$WORK/rfc3161-toaster.sys"
}
behaviour_sha512_imprint() {
check "--timestamp-digest sha512: the token's message imprint is SHA-512" bash -c "
  '$DRVSIGN' sign --quiet --cert '$PKI/leaf-chain.pem' --key '$PKI/leaf.key' --timestamp '$TSA/rfc3161' --timestamp-digest sha512 --out '$WORK/sha512.sys' '$DRIVERS/toaster.sys' &&
  osslsigncode verify -CAfile '$PKI/root.pem' -TSA-CAfile '$PKI/root.pem' -in '$WORK/sha512.sys' >/dev/null &&
  osslsigncode extract-signature -in '$WORK/sha512.sys' -out '$WORK/sha512.p7' >/dev/null &&
  $PY -c 'import sys; sys.exit(0 if bytes.fromhex(\"0609608648016503040203\") in open(sys.argv[1],\"rb\").read() else 1)' '$WORK/sha512.p7'"
}

# failover and retries
behaviour_failover() {
check "a dead first URL fails over to the second" "$DRVSIGN" sign "${LEAF[@]}" --timestamp http://127.0.0.1:1/ \
  --timestamp "$TSA/rfc3161" --timestamp-timeout 2 --timestamp-wait 0 --out "$WORK/failover.sys" "$DRIVERS/toaster.sys"
check "... and the result is timestamped" oss_ts "$WORK/failover.sys"
check_output "... after one line about the dead URL" "timestamp from http://127.0.0.1:1/ failed \\(round 1 of 3\\): cannot connect" \
  "$DRVSIGN" sign "${LEAF[@]}" --timestamp http://127.0.0.1:1/ --timestamp "$TSA/rfc3161" --timestamp-timeout 2 \
  --timestamp-wait 0 --out "$WORK/failover2.sys" "$DRIVERS/toaster.sys"
}
behaviour_retries() {
"$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSA/flaky/2/a" "${FAST[@]}" --out "$WORK/flaky.sys" "$DRIVERS/toaster.sys" 2>"$WORK/err"
check "503 twice, then success, within 3 rounds" oss_ts "$WORK/flaky.sys"
check "... with one line per failed attempt" bash -c "cat '$WORK/err'; [ \$(grep -c 'failed (round [12] of 3): HTTP 503' '$WORK/err') -eq 2 ]"
check_exit "503 three times with 2 rounds fails" 1 "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSA/flaky/3/b" \
  --timestamp-retries 2 "${FAST[@]}" --out "$WORK/flaky2.sys" "$DRIVERS/toaster.sys"
check "... and writes nothing" test ! -e "$WORK/flaky2.sys"
}

# bad replies: each refused with its reason, the input untouched
keep() {
  cp "$DRIVERS/toaster.sys" "$WORK/keep.sys"
  before=$(file_sum "$WORK/keep.sys")
}
bad() { # path regex
  "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSA$1" --timestamp-retries 1 "${FAST[@]}" "$WORK/keep.sys" >"$WORK/out" 2>&1
  local rc=$?
  check "$1: exits 1" test $rc -eq 1
  check "$1: says $2" bash -c "cat '$WORK/out'; grep -Eq -- '$2' '$WORK/out'"
  check "$1: the file is untouched" test "$before" = "$(file_sum "$WORK/keep.sys")"
}
behaviour_bad_replies() {
keep
bad /wrong-nonce "nonce mismatch"
bad /not-tsa "not a time-stamping certificate"
bad /garbage "reply is not a TimeStampResp"
bad /text "use --timestamp-legacy"
bad /nowhere "HTTP 404"
check_error "a slow server hits --timestamp-timeout" 1 "no reply within 1 s|timeout" \
  "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSA/slow" --timestamp-timeout 1 --timestamp-retries 1 "$WORK/keep.sys"
}

# connection failures, each told apart, none waiting out a timeout it need not (all on 127.0.0.1;
# the DNS case asks a resolver on 127.0.0.1 for a .invalid name, which never exists)
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
conn_fails() { # description regex url [extra options]: exit 1 with that reason, in under a minute
  local d=$1 re=$2 url=$3
  shift 3
  check_error "$d" 1 "timestamp from ${url//./\\.} failed \\(round 1 of 1\\): $re" \
    timeout 60 "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$url" --timestamp-retries 1 "$@" \
    --out "$WORK/conn.sys" "$DRIVERS/toaster.sys"
}
behaviour_connection_failures() {
local free_port blackhole bport
free_port=$(free_port)
keep
conn_fails "a refused connection is reported as refused, at once (not after --timestamp-timeout 3600)" \
  "cannot connect to 127\\.0\\.0\\.1:$free_port: connection refused" "http://127.0.0.1:$free_port/" --timestamp-timeout 3600
# The lookup must not leave the machine: in a mount namespace of its own, resolv.conf names 127.0.0.1,
# where no DNS server listens, so the resolver fails at once and no query goes anywhere else.
printf 'nameserver 127.0.0.1\n' > "$WORK/resolv.conf"
check_error "a name that does not resolve is a DNS failure (resolver on 127.0.0.1 only)" 1 \
  "timestamp from http://nonexistent\\.invalid/rfc3161 failed \\(round 1 of 1\\): cannot resolve nonexistent\\.invalid" \
  timeout 60 unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$WORK/resolv.conf" \
  "$DRVSIGN" sign "${LEAF[@]}" --timestamp "http://nonexistent.invalid/rfc3161" --timestamp-retries 1 \
  --timestamp-timeout 3600 --out "$WORK/conn.sys" "$DRIVERS/toaster.sys"
# a listening socket whose backlog is full: the kernel drops the handshake, nothing answers
$PY - "$WORK/blackhole.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.5)
open(sys.argv[1] + ".tmp", "w").write(str(port))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
blackhole=$!
for _ in $(seq 50); do [ -s "$WORK/blackhole.port" ] && break; sleep 0.1; done
bport=$(cat "$WORK/blackhole.port" 2>/dev/null)
conn_fails "a server that never answers the connection is a connect timeout" \
  "cannot connect to 127\\.0\\.0\\.1:$bport within 1 s \\(no answer\\)" "http://127.0.0.1:$bport/" --timestamp-timeout 1
kill "$blackhole" 2>/dev/null
wait "$blackhole" 2>/dev/null
conn_fails "... and one that connects but never replies is a reply timeout" "no reply within 1 s" \
  "$TSA/slow" --timestamp-timeout 1
check_error "a dead proxy: the proxy is named, refused at once" 1 \
  "cannot connect to the proxy 127\\.0\\.0\\.1:$free_port: connection refused" \
  env http_proxy="http://127.0.0.1:$free_port" timeout 60 "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSA/rfc3161" \
  --timestamp-retries 1 --timestamp-timeout 3600 --out "$WORK/conn.sys" "$DRIVERS/toaster.sys"
check "... and no file was written" test ! -e "$WORK/conn.sys"
check_exit "--timestamp with --timestamp-legacy is a usage error" 2 "$DRVSIGN" sign "${LEAF[@]}" \
  --timestamp "$TSA/rfc3161" --timestamp-legacy "$TSA/legacy" "$WORK/keep.sys"
}

# an expired signer: valid with a timestamp from its lifetime, invalid without
behaviour_expired_signer_timestamped() {
local kind opt
for kind in rfc3161 legacy; do
  if [ $kind = rfc3161 ]; then opt=(--timestamp "$TSA/2020/rfc3161"); else opt=(--timestamp-legacy "$TSA/2020/legacy"); fi
  check "$kind: sign with the expired leaf, timestamped 2020-06-01" "$DRVSIGN" sign --cert "$PKI/leaf-expired-chain.pem" \
    --key "$PKI/leaf-expired.key" "${opt[@]}" "${FAST[@]}" --out "$WORK/expired-$kind.sys" "$DRIVERS/toaster.sys"
  check "$kind: drvsign verifies it (the timestamp is within the leaf's validity)" ds_verify "$WORK/expired-$kind.sys"
  check_output "$kind: ... dated 2020-06-01" "timestamp 2020-06-01T12:00" ds_verify "$WORK/expired-$kind.sys"
  check "$kind: osslsigncode verifies it too" oss_ts "$WORK/expired-$kind.sys"
done
}
behaviour_expired_signer_untimestamped() {
"$DRVSIGN" sign --cert "$PKI/leaf-expired-chain.pem" --key "$PKI/leaf-expired.key" --out "$WORK/expired-bare.sys" "$DRIVERS/toaster.sys"
check "without a timestamp the expired leaf fails drvsign" ds_rejects "$WORK/expired-bare.sys"
check_exit "... and osslsigncode" 1 oss_ts "$WORK/expired-bare.sys"
check "the expired leaf timestamped now" "$DRVSIGN" sign --quiet --cert "$PKI/leaf-expired-chain.pem" --key "$PKI/leaf-expired.key" \
  --timestamp "$TSA/rfc3161" "${FAST[@]}" --out "$WORK/expired-now.sys" "$DRIVERS/toaster.sys"
check_error "... is not rescued by that timestamp" 1 "expired" ds_verify "$WORK/expired-now.sys"
}

# drvsign timestamp: the signature stays, the token is added (or replaced)
signer_info() { # file -> hex of everything in the SignerInfo up to and including encryptedDigest
  rm -f "$WORK/sig.p7" # osslsigncode does not overwrite
  osslsigncode extract-signature -in "$1" -out "$WORK/sig.p7" >/dev/null 2>&1 || return 1
  $PY - "$WORK/sig.p7" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
def tlv(i):
    n = b[i + 1]; j = i + 2
    if n & 0x80:
        k = n & 0x7F; n = int.from_bytes(b[j:j + k], "big"); j += k
    return j, j + n
def kids(s, e):
    out = []
    while s < e:
        cs, ce = tlv(s); out.append((b[s], s, cs, ce)); s = ce
    return out
s, e = tlv(0); ci = kids(s, e)
sd = kids(*tlv(ci[1][2]))           # [0] -> SignedData fields
si = kids(sd[-1][2], sd[-1][3])[0]  # signerInfos -> first SignerInfo
fields = kids(si[2], si[3])
enc = [f for f in fields if f[0] == 0x04][0]
print(b[si[2]:enc[3]].hex())
print("unsigned" if fields[-1][0] == 0xA1 else "none")
PY
}
behaviour_timestamp_command() {
local before_si
ts_pkg || return
ts_signed rfc3161 "$DRIVERS/toaster.sys" || return
ts_signed legacy "$WORK/pkg/tstamd64.cat" || return
ts_signed legacy "$WORK/pkg.cab" || return
cp "$WORK/rfc3161-toaster.sys" "$WORK/restamp.sys"
"$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/plain.sys" "$DRIVERS/toaster.sys"
before_si=$(signer_info "$WORK/plain.sys" | head -1)
check "the signature can be read before timestamping" test -n "$before_si"
check "drvsign timestamp adds a token to a signed file" "$DRVSIGN" timestamp --timestamp "$TSA/rfc3161" "${FAST[@]}" "$WORK/plain.sys"
check "... leaving the signed attributes and the signature value as they were" test "$before_si" = "$(signer_info "$WORK/plain.sys" | head -1)"
check "... now with unsigned attributes" test "$(signer_info "$WORK/plain.sys" | tail -1)" = unsigned
check "... which osslsigncode verifies" oss_ts "$WORK/plain.sys"
check "drvsign timestamp --timestamp-legacy replaces an RFC 3161 token" "$DRVSIGN" timestamp --timestamp-legacy "$TSA/legacy" "${FAST[@]}" "$WORK/restamp.sys"
check_output "... with a legacy one" "\\(legacy\\) by" ds_verify "$WORK/restamp.sys"
check "drvsign timestamp on a catalog and a cabinet" "$DRVSIGN" timestamp --timestamp "$TSA/rfc3161" "${FAST[@]}" \
  "$WORK/legacy-tstamd64.cat" "$WORK/legacy-pkg.cab"
check "... which osslsigncode verifies" bash -c "osslsigncode verify -CAfile '$PKI/root.pem' -TSA-CAfile '$PKI/root.pem' -in '$WORK/legacy-tstamd64.cat' >/dev/null && osslsigncode verify -CAfile '$PKI/root.pem' -TSA-CAfile '$PKI/root.pem' -in '$WORK/legacy-pkg.cab' >/dev/null"
"$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" --digest sha1 --out "$WORK/dual.sys" "$DRIVERS/toaster.sys"
"$DRVSIGN" sign --quiet --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf.key" --append "$WORK/dual.sys"
check "drvsign timestamp stamps nested signatures too" "$DRVSIGN" timestamp --timestamp "$TSA/rfc3161" "${FAST[@]}" "$WORK/dual.sys"
check "... both signatures carry a timestamp" test "$("$DRVSIGN" verify --ca "$PKI/root.pem" "$WORK/dual.sys" | grep -c 'timestamp .*(rfc3161)')" -eq 2
check_exit "drvsign timestamp on an unsigned file fails" 1 "$DRVSIGN" timestamp --timestamp "$TSA/rfc3161" "$DRIVERS/toaster.sys"
check_exit "drvsign timestamp without a server is a usage error" 2 "$DRVSIGN" timestamp "$WORK/plain.sys"
}

# a broken timestamp fails verification
behaviour_tampered_token() {
local off
ts_signed rfc3161 "$DRIVERS/toaster.sys" || return
cp "$WORK/rfc3161-toaster.sys" "$WORK/badts.sys"
off=$($PY -c 'import sys; b=open(sys.argv[1],"rb").read(); print(b.rindex(bytes.fromhex("060b2a864886f70d0109100104")) + 40)' "$WORK/badts.sys")
flip_byte "$WORK/badts.sys" "$off"
check "a tampered timestamp token fails drvsign verify" ds_rejects "$WORK/badts.sys"
}

# HTTPS, with the server's certificate checked
behaviour_https() {
check "HTTPS with --timestamp-ca-file" "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSAS/rfc3161" --timestamp-ca-file "$PKI/root.pem" \
  "${FAST[@]}" --out "$WORK/https.sys" "$DRIVERS/toaster.sys"
check "... timestamped" oss_ts "$WORK/https.sys"
check_exit "HTTPS against the system store refuses the test server" 1 "$DRVSIGN" sign "${LEAF[@]}" --timestamp "$TSAS/rfc3161" \
  --timestamp-retries 1 "${FAST[@]}" --out "$WORK/https2.sys" "$DRIVERS/toaster.sys"
}
# proxies from the environment
behaviour_proxies() {
check_exit "http_proxy is honoured (a dead proxy fails)" 1 env http_proxy=http://127.0.0.1:1 "$DRVSIGN" sign "${LEAF[@]}" \
  --timestamp "$TSA/rfc3161" --timestamp-retries 1 --timestamp-timeout 2 --out "$WORK/proxy.sys" "$DRIVERS/toaster.sys"
check "no_proxy is honoured" env http_proxy=http://127.0.0.1:1 no_proxy=127.0.0.1 "$DRVSIGN" sign "${LEAF[@]}" \
  --timestamp "$TSA/rfc3161" --timestamp-retries 1 --timestamp-timeout 2 --out "$WORK/proxy2.sys" "$DRIVERS/toaster.sys"
}

# the cab command timestamps too
behaviour_cab_command() {
ts_pkg || return
check "drvsign cab --timestamp" "$DRVSIGN" cab --quiet "${LEAF[@]}" --timestamp "$TSA/rfc3161" "${FAST[@]}" --out "$WORK/ts.cab" "$WORK/pkg"
check "... osslsigncode verifies the timestamped cabinet" oss_ts "$WORK/ts.cab"
check_output "inspect shows the timestamp" "timestamp 20.*by \"CN = drvsign Test TSA\"" "$DRVSIGN" inspect "$WORK/ts.cab"
}

run_behaviours "$@"
