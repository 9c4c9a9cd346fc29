#!/bin/sh
# drvsign signer command for Azure Key Vault (and Managed HSM) keys, through the Azure CLI:
#   drvsign sign --cert chain.pem \
#     --signer-command "contrib/signers/azure-keyvault.sh https://VAULT.vault.azure.net/keys/KEY" ...
# Log in first (az login, or a CI federated identity). Key Vault signs the digest itself
# (az keyvault key sign --digest, base64) and answers in base64: this turns that into raw bytes.
set -eu
case "$DRVSIGN_KEY_TYPE:$DRVSIGN_DIGEST_ALGORITHM" in
RSA:sha256) alg=RS256 ;;
EC:sha256) alg=ES256 ;;
*)
    echo "azure-keyvault.sh: Key Vault has no algorithm for a $DRVSIGN_DIGEST_ALGORITHM digest with a $DRVSIGN_KEY_TYPE key; sign with --digest sha256" >&2
    exit 1
    ;;
esac
sig=$(az keyvault key sign --id "$1" --algorithm "$alg" --digest "$DRVSIGN_DIGEST_BASE64" \
    --query signature --output tsv)
# base64 or base64url, padded or not
sig=$(printf '%s' "$sig" | tr -d '\r\n' | tr '_-' '/+')
case $((${#sig} % 4)) in
2) sig="$sig==" ;;
3) sig="$sig=" ;;
esac
printf '%s' "$sig" | base64 -d
