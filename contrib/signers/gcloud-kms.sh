#!/bin/sh
# drvsign signer command for Google Cloud KMS asymmetric-signing keys, through gcloud:
#   drvsign sign --cert chain.pem --signer-command \
#     "contrib/signers/gcloud-kms.sh --location L --keyring R --key K --version 1" ...
# gcloud kms asymmetric-sign hashes its --input-file itself, so it gets the signed attributes
# (DRVSIGN_SIGNED_ATTRS_BASE64), whose SHA-256 is the digest drvsign checks the signature
# against. gcloud writes the signature in base64; this prints the raw bytes.
set -eu
case "$DRVSIGN_DIGEST_ALGORITHM" in
sha256 | sha384 | sha512) ;;
*)
    echo "gcloud-kms.sh: Cloud KMS has no $DRVSIGN_DIGEST_ALGORITHM; sign with --digest sha256" >&2
    exit 1
    ;;
esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%s' "$DRVSIGN_SIGNED_ATTRS_BASE64" | base64 -d >"$dir/attrs"
gcloud kms asymmetric-sign "$@" --digest-algorithm "$DRVSIGN_DIGEST_ALGORITHM" \
    --input-file "$dir/attrs" --signature-file "$dir/sig" >&2
# base64 text as documented; raw bytes as some versions write
if tr -d 'A-Za-z0-9+/=\r\n' <"$dir/sig" | cmp -s - /dev/null; then
    base64 -d <"$dir/sig"
else
    cat "$dir/sig"
fi
