#!/bin/sh
# drvsign signer command for AWS KMS asymmetric keys (SIGN_VERIFY), through the AWS CLI:
#   drvsign sign --cert chain.pem --signer-command "contrib/signers/aws-kms.sh alias/release-key" ...
# KMS signs the digest itself (--message-type DIGEST) and the CLI prints the signature in
# base64 (--output text): this passes the raw digest and decodes the answer. KMS has no SHA-1.
set -eu
case "$DRVSIGN_KEY_TYPE:$DRVSIGN_DIGEST_ALGORITHM" in
RSA:sha256) alg=RSASSA_PKCS1_V1_5_SHA_256 ;;
EC:sha256) alg=ECDSA_SHA_256 ;;
*)
    echo "aws-kms.sh: KMS has no algorithm for a $DRVSIGN_DIGEST_ALGORITHM digest with a $DRVSIGN_KEY_TYPE key; sign with --digest sha256" >&2
    exit 1
    ;;
esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/digest"
sig=$(aws kms sign --key-id "$1" --message "fileb://$dir/digest" --message-type DIGEST \
    --signing-algorithm "$alg" --query Signature --output text)
printf '%s' "$sig" | base64 -d
