#!/usr/bin/env bash
# Both verifiers must reject what Windows would reject.
. "$(dirname "$0")/../lib.sh"

# the good file (with page hashes) each behaviour damages, in its own WORK
good_file() {
  good="$WORK/good.sys"
  setup "sign the good file" "$DRVSIGN" sign "${LEAF[@]}" --page-hashes --out "$good" "$DRIVERS/toaster.sys"
}

behaviour_control() {
good_file || return
check "control: the good file verifies with osslsigncode" oss_verify "$good"
check "control: the good file verifies with drvsign" ds_verify "$good"

}

# a flipped byte in .text
behaviour_text_byte() {
local f="$WORK/text.sys" text
good_file || return
cp "$good" "$f"
text=$(pe_field "$f" "[s.PointerToRawData for s in pe.sections if s.Name.startswith(b'.text')][0]")
flip_byte "$f" $((text + 16))
check "flipped .text byte: osslsigncode rejects" oss_rejects "$f"
check "flipped .text byte: drvsign rejects" ds_rejects "$f"
check_error "flipped .text byte: drvsign says the file changed" 1 "file changed after signing" ds_verify "$f"

}

# a flipped byte in the signature value (the signer's encrypted digest ends the PKCS#7)
behaviour_signature_byte() {
local f="$WORK/sig.sys" sec len
good_file || return
cp "$good" "$f"
sec=$(pe_field "$f" "pe.OPTIONAL_HEADER.DATA_DIRECTORY[4].VirtualAddress")
len=$($PY -c 'import sys,struct; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(struct.unpack("<I", f.read(4))[0])' "$f" "$sec")
flip_byte "$f" $((sec + len - 40))
check "flipped signature byte: osslsigncode rejects" oss_rejects "$f"
check "flipped signature byte: drvsign rejects" ds_rejects "$f"

}

# a flipped byte in the stored page hash table
behaviour_page_hash_byte() {
local f="$WORK/pagehash.sys" off
good_file || return
cp "$good" "$f"
off=$($PY - "$f" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
# the V2 page-hash OID, then SET, OCTET STRING header: flip inside the table
oid = bytes.fromhex("060a2b060104018237020302")
i = data.index(oid) + len(oid)
print(i + 16)
PY
)
flip_byte "$f" "$off"
check "flipped page hash: drvsign rejects" ds_rejects "$f"

}

# untrusted root
behaviour_untrusted_root() {
local f="$WORK/untrusted.sys"
setup "sign under the other root" "$DRVSIGN" sign --cert "$PKI/other-leaf-chain.pem" --key "$PKI/other-leaf.key" --out "$f" "$DRIVERS/toaster.sys" || return
check "untrusted root: osslsigncode rejects" oss_rejects "$f"
check "untrusted root: drvsign rejects" ds_rejects "$f"
check "untrusted root: drvsign accepts it when that root is trusted" \
  "$DRVSIGN" verify --ca "$PKI/other-root.pem" "$f"

}

# a leaf without the code-signing EKU
behaviour_no_code_signing_eku() {
local f="$WORK/noeku.sys"
setup "sign with the leaf without the EKU" "$DRVSIGN" sign --cert "$PKI/leaf-noeku-chain.pem" --key "$PKI/leaf-noeku.key" --out "$f" "$DRIVERS/toaster.sys" || return
check "leaf without code-signing EKU: osslsigncode rejects" oss_rejects "$f"
check "leaf without code-signing EKU: drvsign rejects" ds_rejects "$f"
check_error "... naming the reason" 1 "not valid for code signing" ds_verify "$f"

}

# an expired leaf (2020-2021), without a timestamp
behaviour_expired_leaf() {
local f="$WORK/expired.sys" june2020
setup "sign with the expired leaf" "$DRVSIGN" sign --cert "$PKI/leaf-expired-chain.pem" --key "$PKI/leaf-expired.key" --out "$f" "$DRIVERS/toaster.sys" || return
check "expired leaf: osslsigncode rejects" oss_rejects "$f"
check "expired leaf: drvsign rejects" ds_rejects "$f"
check_error "... saying it expired" 1 "expired" ds_verify "$f"
june2020=1590969600
check "expired leaf: drvsign accepts it at --time inside its validity" ds_verify --time $june2020 "$f"
check "expired leaf: osslsigncode accepts it at -time inside its validity" oss_verify "$f" -time $june2020

}

# a damaged header checksum on a signed file
behaviour_wrong_checksum() {
local f="$WORK/checksum.sys" ck
good_file || return
cp "$good" "$f"
ck=$(pe_field "$f" "pe.OPTIONAL_HEADER.get_file_offset() + 64")
put_u32 "$f" "$ck" 0x12345678
check_exit "wrong PE checksum: pefile disagrees with the header" 1 pefile_checksum_ok "$f"
check "wrong PE checksum: drvsign rejects" ds_rejects "$f"
check_error "... naming the checksum" 1 "checksum is 0x12345678" ds_verify "$f"
}

run_behaviours "$@"
