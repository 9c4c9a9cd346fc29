#!/usr/bin/env bash
# A signer command that answers ECDSA as raw r||s (as Azure Key Vault and PKCS#11 tokens do):
# openssl pkeyutl's DER signature, converted. Usage: ecdsa-raw-signer.sh KEY HALF_BYTES
set -euo pipefail
openssl pkeyutl -sign -inkey "$1" -pkeyopt "digest:$DRVSIGN_DIGEST_ALGORITHM" |
  /usr/bin/python3 "$(dirname "$0")/der2raw.py" "$2"
