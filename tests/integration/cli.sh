#!/usr/bin/env bash
# The command line: help, exit codes, usage errors, passwords, reports.
. "$(dirname "$0")/../lib.sh"

behaviour_version_and_help() {
local cmd
check_output "--version" "^drvsign [0-9]+\.[0-9]+\.[0-9]+$" "$DRVSIGN" --version
check_exit "--version exits 0" 0 "$DRVSIGN" --version
check_output "--help lists the commands" "sign .*verify|verify" "$DRVSIGN" --help
check_exit "--help exits 0" 0 "$DRVSIGN" --help
for cmd in sign verify testcert; do
  check_exit "$cmd --help exits 0" 0 "$DRVSIGN" "$cmd" --help
done
check_output "sign --help lists the signer options" "--pfx FILE.*" "$DRVSIGN" sign --help
check_output "sign --help lists --page-hashes" "--page-hashes" "$DRVSIGN" sign --help
}
# each command's help lists only options that command takes, each in that command's words
behaviour_help_options() {
local cmd
for cmd in sign verify catalog cab archive inspect timestamp package testcert extract remove attach; do
  "$DRVSIGN" "$cmd" --help >"$WORK/help-$cmd" 2>&1
  check "$cmd --help: every option it lists, $cmd takes" bash -c "
    for o in \$(grep -oE '^  --[a-z0-9-]+' '$WORK/help-$cmd'); do
      '$DRVSIGN' $cmd \$o 2>&1 | grep -q 'does not apply to this command' && { echo \"\$o does not apply\"; exit 1; }
    done; exit 0"
  check "$cmd --help names no other command's use of an option" \
    lacks "(^| )(sign|verify|catalog|cab|archive|inspect|timestamp|package|testcert|extract|remove|attach): " cat "$WORK/help-$cmd"
done
check "timestamp --help explains --out for timestamp only" lacks "identity|catalog" grep -- "--out" "$WORK/help-timestamp"
check "catalog --help says nothing of sha1/sha256 (catalog has no --digest)" lacks "sha1|sha256" cat "$WORK/help-catalog"

}

# usage errors: exit 2
behaviour_usage_errors() {
check_exit "no arguments" 2 "$DRVSIGN"
check_exit "unknown command" 2 "$DRVSIGN" frobnicate
check_exit "unknown option" 2 "$DRVSIGN" sign --frob x.sys
check_exit "option of another command" 2 "$DRVSIGN" verify --pfx a.pfx x.sys
check_exit "missing option value" 2 "$DRVSIGN" sign --cert
check_exit "bad digest" 2 "$DRVSIGN" sign "${LEAF[@]}" --digest md5 "$DRIVERS/toaster.sys"
check_exit "--out with two files" 2 "$DRVSIGN" sign "${LEAF[@]}" --out "$WORK/x" "$DRIVERS/toaster.sys" "$DRIVERS/helper.dll"
check_error "--cert without --key" 2 "--cert needs --key" "$DRVSIGN" sign --cert "$PKI/leaf.pem" "$DRIVERS/toaster.sys"
check_error "--key without --cert" 2 "--key needs --cert" "$DRVSIGN" sign --key "$PKI/leaf.key" "$DRIVERS/toaster.sys"
check_error "sign without a signing identity" 2 "needs a signing identity" "$DRVSIGN" sign "$DRIVERS/toaster.sys"
check_error "cab --cert without --key" 2 "--cert needs --key" "$DRVSIGN" cab --cert "$PKI/leaf.pem" --out "$WORK/x.cab" "$WORK"
check_exit "--quiet with a value" 2 "$DRVSIGN" sign --quiet=yes "${LEAF[@]}" "$DRIVERS/toaster.sys"
check_exit "--pfx with --cert" 2 "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --cert "$PKI/leaf.pem" "$DRIVERS/toaster.sys"
check_exit "bad --time" 2 "$DRVSIGN" verify --time yesterday "$DRIVERS/toaster.sys"
check_exit "bad --days" 2 "$DRVSIGN" testcert --out "$WORK/tc" --days forever
check_exit "no file to sign" 2 "$DRVSIGN" sign "${LEAF[@]}"
check_exit "a password on the command line is refused" 2 "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password hunter2 "$DRIVERS/toaster.sys"
check_error "... with the reason" 2 "not taken on the command line" \
  "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password hunter2 "$DRIVERS/toaster.sys"

}

# the library's one validator, worded in the command line's flags: every problem one line, all of
# them listed, then exit 2
behaviour_library_checks_name_flags() {
local d="$WORK/pkg" before
mkdir -p "$d"
check_error "an unknown OS id is named as --os" 2 "^drvsign: unknown --os id '10_X46'; did you mean .*10_X64" \
  "$DRVSIGN" catalog --driver "$d" --os 10_X46
cp "$WORK/.log" "$WORK/os.log"
check "... not as the CMake module's OS" lacks "unknown OS id" cat "$WORK/os.log"
check_error "catalog: three problems" 2 "" \
  "$DRVSIGN" catalog --driver "$d" --os 10_X46 --os Bogus --catalog-version 3 --time 2000000000000
cp "$WORK/.log" "$WORK/catalog.log"
check "... each its own line: --catalog-version" grep -qx "drvsign: --catalog-version is 1 or 2, not '3'" "$WORK/catalog.log"
check "... --os 10_X46" grep -q "^drvsign: unknown --os id '10_X46'" "$WORK/catalog.log"
check "... --os Bogus" grep -qx "drvsign: unknown --os id 'Bogus' (see the Inf2Cat /os table in the README)" "$WORK/catalog.log"
check "... --time" grep -qx "drvsign: --time takes seconds since 1970 from 1 to 1099511627776, not '2000000000000'" "$WORK/catalog.log"
check "... four lines, nothing else" test "$(wc -l <"$WORK/catalog.log")" -eq 4
before=$(file_sum "$DRIVERS/toaster.sys")
check_error "sign: five problems" 2 "" "$DRVSIGN" sign --digest md5 --timestamp ftp://tsa --timestamp-digest md4 \
  --cert "$PKI/leaf.pem" --out "$WORK/x.sys" "$DRIVERS/toaster.sys" "$DRIVERS/helper.dll"
cp "$WORK/.log" "$WORK/sign.log"
check "... --out with two files" grep -qx "drvsign: --out takes exactly one input file, not 2" "$WORK/sign.log"
check "... --cert without --key" grep -qx "drvsign: --cert needs --key as well" "$WORK/sign.log"
check "... --digest" grep -qx "drvsign: --digest takes sha256 or sha1, not 'md5'" "$WORK/sign.log"
check "... --timestamp" grep -qx "drvsign: --timestamp is an http:// or https:// URL, not 'ftp://tsa'" "$WORK/sign.log"
check "... --timestamp-digest" grep -qx "drvsign: --timestamp-digest takes sha256, sha384, sha512 or sha1, not 'md4'" "$WORK/sign.log"
check "... five lines, nothing else" test "$(wc -l <"$WORK/sign.log")" -eq 5
check "... and the file is untouched" test "$before" = "$(file_sum "$DRIVERS/toaster.sys")"
check_exit "... and nothing is written" 1 test -e "$WORK/x.sys"
check_error "an out-of-range --days is the library's check" 2 "^drvsign: --days takes a number of days from 1 to 36500, not '40000'$" \
  "$DRVSIGN" testcert --out "$WORK/tc" --days 40000
check_exit "... and no identity is made" 1 test -e "$WORK/tc"
check_error "extract: both problems" 2 "" "$DRVSIGN" extract "$DRIVERS/toaster.sys" "$DRIVERS/helper.dll"
cp "$WORK/.log" "$WORK/extract.log"
check "... the file count" grep -qx "drvsign: extract takes exactly one file, not 2" "$WORK/extract.log"
check "... and the missing --out" grep -qx "drvsign: extract needs --out, the file to write the signature to" "$WORK/extract.log"
}

# passwords from the environment or a file, never argv, never echoed
test_password() { DRVSIGN_TEST_PW=$(cat "$PKI/password.txt") && export DRVSIGN_TEST_PW; }
behaviour_passwords() {
test_password
check "PFX with --password-env" "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-env DRVSIGN_TEST_PW \
  --out "$WORK/pfx-env.sys" "$DRIVERS/toaster.sys"
check "... verifies with osslsigncode" oss_verify "$WORK/pfx-env.sys"
check "PFX with --password-file" "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-file "$PKI/password.txt" \
  --out "$WORK/pfx-file.sys" "$DRIVERS/toaster.sys"
check "... verifies with osslsigncode" oss_verify "$WORK/pfx-file.sys"
check "PFX without a password" "$DRVSIGN" sign --pfx "$PKI/leaf-nopass.pfx" --out "$WORK/pfx-none.sys" "$DRIVERS/toaster.sys"
check "... verifies with osslsigncode" oss_verify "$WORK/pfx-none.sys"
check "encrypted key with --password-env" "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" \
  --key "$PKI/leaf-encrypted.key" --password-env DRVSIGN_TEST_PW --out "$WORK/enc.sys" "$DRIVERS/toaster.sys"
check "... verifies with osslsigncode" oss_verify "$WORK/enc.sys"
}
behaviour_wrong_passwords() {
local before
export DRVSIGN_WRONG_PW="not-the-password"
cp "$DRIVERS/toaster.sys" "$WORK/keep.sys"
before=$(file_sum "$WORK/keep.sys")
check_exit "PFX with a wrong password exits 1" 1 "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-env DRVSIGN_WRONG_PW "$WORK/keep.sys"
check_error "... saying so" 1 "leaf.pfx: wrong password" "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-env DRVSIGN_WRONG_PW "$WORK/keep.sys"
"$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-env DRVSIGN_WRONG_PW "$WORK/keep.sys" >"$WORK/wrongpw.out" 2>&1
check_exit "... without printing the password" 1 grep -q not-the-password "$WORK/wrongpw.out"
check "... leaving the input untouched" test "$before" = "$(file_sum "$WORK/keep.sys")"
check_exit "encrypted key with a wrong password exits 1" 1 "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" \
  --key "$PKI/leaf-encrypted.key" --password-env DRVSIGN_WRONG_PW "$WORK/keep.sys"
check_error "encrypted key without a password says how to give one" 1 "password-env or --password-file" \
  "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" --key "$PKI/leaf-encrypted.key" "$WORK/keep.sys"
check_exit "unset password variable exits 1" 1 "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-env DRVSIGN_NOT_SET "$WORK/keep.sys"
check_error "certificate that does not match the key" 1 "no certificate in this file matches the private key" \
  "$DRVSIGN" sign --cert "$PKI/other-leaf.pem" --key "$PKI/leaf.key" "$WORK/keep.sys"
check "... leaving the input untouched" test "$before" = "$(file_sum "$WORK/keep.sys")"
check_error "missing key file" 1 "nonexistent.key" "$DRVSIGN" sign --cert "$PKI/leaf.pem" --key "$WORK/nonexistent.key" "$WORK/keep.sys"
check_error "missing input file names it" 1 "drvsign: $WORK/missing.sys: cannot open" "$DRVSIGN" sign "${LEAF[@]}" "$WORK/missing.sys"

}

# verify reports
behaviour_verify_reports() {
local bad rc
test_password
setup "PFX with --password-env" "$DRVSIGN" sign --pfx "$PKI/leaf.pfx" --password-env DRVSIGN_TEST_PW \
  --out "$WORK/pfx-env.sys" "$DRIVERS/toaster.sys" || return
setup "encrypted key with --password-env" "$DRVSIGN" sign --cert "$PKI/leaf-chain.pem" \
  --key "$PKI/leaf-encrypted.key" --password-env DRVSIGN_TEST_PW --out "$WORK/enc.sys" "$DRIVERS/toaster.sys" || return
check_exit "verify an unsigned file exits 1" 1 ds_verify "$DRIVERS/toaster.sys"
check_error "... saying it is not signed" 1 "toaster.sys: the file is not signed" ds_verify "$DRIVERS/toaster.sys"
check_exit "verify a missing file exits 1" 1 ds_verify "$WORK/missing.sys"
check "verify --json is valid JSON and says verified" json_is 0 '
assert r["verified"] is True, r
assert len(r["files"]) == 2
f = r["files"][0]
assert f["format"] == "pe" and f["checksum"]["ok"] is True
s = f["signatures"][0]
assert s["digest"] == "SHA256" and s["chain_ok"] and s["signature_ok"] and s["file_digest_ok"]
assert "drvsign Test Publisher" in s["signer"]
' "$DRVSIGN" verify --ca "$PKI/root.pem" --json "$WORK/pfx-env.sys" "$WORK/enc.sys"
bad="$WORK/bad.sys"
cp "$WORK/pfx-env.sys" "$bad"
flip_byte "$bad" 1024
check "verify --json of a tampered file exits 1, verified false with the problem" json_is 1 '
assert r["verified"] is False
assert "changed after signing" in r["files"][0]["signatures"][0]["problem"]
' "$DRVSIGN" verify --ca "$PKI/root.pem" --json "$bad"
"$DRVSIGN" verify --ca "$PKI/root.pem" "$WORK/enc.sys" "$bad" >"$WORK/both.out" 2>&1
rc=$?
check "verify of good and bad files exits 1" test $rc -eq 1
check "... listing both" bash -c "grep -q 'enc.sys: verified' '$WORK/both.out' && grep -q 'bad.sys: FAILED' '$WORK/both.out'"
}
# sign reports
behaviour_sign_reports() {
local f rc
for f in a b; do cp "$DRIVERS/toaster.sys" "$WORK/line-$f.sys"; done
"$DRVSIGN" sign "${LEAF[@]}" "$WORK/line-a.sys" "$WORK/line-b.sys" >"$WORK/lines.out" 2>"$WORK/lines.err"
rc=$?
check "sign of two files exits 0" test $rc -eq 0
check "... printing one line per file signed" test "$(grep -c ': signed (SHA256)$' "$WORK/lines.out")" -eq 2
check "... naming each" bash -c "grep -qx '$WORK/line-a.sys: signed (SHA256)' '$WORK/lines.out' && grep -qx '$WORK/line-b.sys: signed (SHA256)' '$WORK/lines.out'"
check "... and nothing else" test ! -s "$WORK/lines.err" -a "$(wc -l <"$WORK/lines.out")" -eq 2
check_output "sign --out names the output" "^$WORK/out-line\.sys: signed \(SHA1, nested\)$" \
  "$DRVSIGN" sign "${LEAF[@]}" --digest sha1 --append --out "$WORK/out-line.sys" "$WORK/line-a.sys"
check "--quiet prints nothing on success" silent "$DRVSIGN" sign --quiet "${LEAF[@]}" --out "$WORK/q.sys" "$DRIVERS/toaster.sys"
}

run_behaviours "$@"
