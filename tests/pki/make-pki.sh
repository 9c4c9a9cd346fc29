#!/usr/bin/env bash
# Builds the test PKI with the openssl CLI, independently of drvsign's own testcert:
#   root -> intermediate -> leaf            (code signing; chain file, encrypted key, PFX)
#   root -> intermediate -> leaf-noeku      (serverAuth only: must be rejected)
#   root -> intermediate -> leaf-expired    (2020-2021: must be rejected without a timestamp)
#   root -> intermediate -> leaf-ec         (ECDSA P-256)
#   other-root -> other-leaf                (a chain to a root nobody trusts)
# Usage: make-pki.sh OUTDIR
set -euo pipefail
out=$1
rm -rf "$out"
mkdir -p "$out"
cd "$out"

password=drvsign-test-password
printf '%s\n' "$password" > password.txt

cat > ca.cnf <<'CNF'
[ca]
default_ca = this_ca
[this_ca]
dir = .
database = $dir/$ENV::CA_NAME.index
new_certs_dir = $dir/issued
serial = $dir/$ENV::CA_NAME.serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_ca_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_code]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_tls]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
mkdir -p issued

# Roots and CAs start in 2019, so an expired leaf can still be checked inside its 2020 validity.
selfsigned_root() { # name cn
  : > "$1.index"
  openssl rand -hex 16 > "$1.serial"
  openssl req -new -newkey rsa:3072 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  CA_NAME=$1 openssl ca -batch -selfsign -config ca.cnf -keyfile "$1.key" -extensions v3_ca_root \
    -notext -in "$1.csr" -out "$1.pem" -startdate 20190101000000Z -enddate 20391231000000Z 2>/dev/null
  rm -f "$1.csr"
}

issue() { # name cn issuer extensions keyspec [startdate enddate]
  local name=$1 cn=$2 issuer=$3 ext=$4 keyspec=$5 dates=()
  [ $# -ge 7 ] && dates=(-startdate "$6" -enddate "$7") || dates=(-days 1825)
  openssl req -new -newkey "$keyspec" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  CA_NAME=$issuer openssl ca -batch -config ca.cnf -cert "$issuer.pem" -keyfile "$issuer.key" \
    -extensions "$ext" -notext -in "$name.csr" -out "$name.pem" "${dates[@]}" 2>/dev/null
  rm -f "$name.csr"
}

selfsigned_root root "drvsign Test PKI Root"
issue intermediate "drvsign Test PKI Code Signing CA" root v3_ca rsa:3072 20190101000000Z 20381231000000Z
: > intermediate.index
openssl rand -hex 16 > intermediate.serial
issue leaf "drvsign Test Publisher" intermediate v3_code rsa:2048
issue leaf-noeku "drvsign Web Server" intermediate v3_server rsa:2048
issue leaf-expired "drvsign Expired Publisher" intermediate v3_code rsa:2048 20200101000000Z 20210101000000Z
issue leaf-ec "drvsign EC Publisher" intermediate v3_code ec:<(openssl ecparam -name prime256v1)
issue leaf-ec384 "drvsign EC P-384 Publisher" intermediate v3_code ec:<(openssl ecparam -name secp384r1)
issue tsa "drvsign Test TSA" intermediate v3_tsa rsa:2048 20190101000000Z 20381231000000Z
cat tsa.pem intermediate.pem >tsa-chain.pem
issue tls-server "127.0.0.1" intermediate v3_tls rsa:2048
cat tls-server.pem intermediate.pem >tls-server-chain.pem
selfsigned_root other-root "Somebody Else's Root"
issue other-leaf "drvsign Impostor" other-root v3_code rsa:2048

for leaf in leaf leaf-noeku leaf-expired leaf-ec leaf-ec384; do
  cat "$leaf.pem" intermediate.pem > "$leaf-chain.pem"
done
cat other-leaf.pem > other-leaf-chain.pem

# The same leaf key, encrypted (PKCS#8, AES-256), as DER, and as a PFX with the chain.
openssl pkcs8 -topk8 -v2 aes-256-cbc -in leaf.key -out leaf-encrypted.key -passout "pass:$password"
openssl pkey -in leaf.key -outform DER -out leaf.der.key
openssl x509 -in leaf.pem -outform DER -out leaf.cer
openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile intermediate.pem -name "drvsign test" \
  -out leaf.pfx -passout "pass:$password"
openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile intermediate.pem -name "drvsign test" \
  -out leaf-nopass.pfx -passout pass:
# a second, "production" identity for install-time release signing
openssl pkcs12 -export -inkey other-leaf.key -in other-leaf.pem -name "drvsign production" \
  -out other-leaf.pfx -passout "pass:$password"

# A second PKI made the way Microsoft's older ones are, for Partner Center-style catalogs:
#   partner-root -> partner-ca (its own EKU list: codeSigning, timeStamping, WHQL)
#     -> partner-tsa        (timeStamping, NOT critical, like Microsoft's TSA certificates)
#     -> partner-publisher  (codeSigning + Windows Hardware Driver Verification)
#     -> partner-expired    (2020-2021, for timestamps inside its validity)
#     -> partner-lifetime   (2020-2021, lifetime signing: a timestamp does not extend it)
#   partner-root -> partner-ca-nots (an EKU list without timeStamping) -> partner-tsa-nots
# The test TSA (tests/tsa/tsa.py) signs with partner-tsa and partner-tsa-nots under /partner*/.
cat >>ca.cnf <<'CNF'
[v3_partner_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning, timeStamping, 1.3.6.1.4.1.311.10.3.5
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_partner_ca_nots]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_partner_tsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_partner_lifetime]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning, 1.3.6.1.4.1.311.10.3.13
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_partner_publisher]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning, 1.3.6.1.4.1.311.10.3.5
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
selfsigned_root partner-root "drvsign Test Partner Root"
issue partner-ca "drvsign Test Partner CA" partner-root v3_partner_ca rsa:3072 20190101000000Z 20381231000000Z
issue partner-ca-nots "drvsign Test Partner CA without timeStamping" partner-root v3_partner_ca_nots \
  rsa:2048 20190101000000Z 20381231000000Z
for ca in partner-ca partner-ca-nots; do : >"$ca.index"; openssl rand -hex 16 >"$ca.serial"; done
issue partner-tsa "drvsign Test Partner TSA" partner-ca v3_partner_tsa rsa:2048 20190101000000Z 20381231000000Z
issue partner-tsa-nots "drvsign Test Partner TSA under a CA without timeStamping" partner-ca-nots \
  v3_partner_tsa rsa:2048 20190101000000Z 20381231000000Z
issue partner-publisher "drvsign Test Hardware Compatibility Publisher" partner-ca v3_partner_publisher rsa:2048
issue partner-expired "drvsign Test Expired Partner" partner-ca v3_partner_publisher rsa:2048 \
  20200101000000Z 20210101000000Z
issue partner-lifetime "drvsign Test Lifetime Partner" partner-ca v3_partner_lifetime rsa:2048 \
  20200101000000Z 20210101000000Z
for c in partner-publisher partner-expired partner-lifetime partner-tsa; do cat "$c.pem" partner-ca.pem >"$c-chain.pem"; done
cat partner-tsa-nots.pem partner-ca-nots.pem >partner-tsa-nots-chain.pem
echo "test PKI ready in $out"
