#!/bin/sh
# drvsign signer command for a key OpenSSL can reach: a key file, or a pkcs11: URI through a
# provider (add "-provider pkcs11 -provider default"). The digest algorithm follows --digest.
#   drvsign sign --cert chain.pem --signer-command "contrib/signers/openssl-pkeyutl.sh key.pem" ...
# Extra arguments go to openssl pkeyutl, e.g. -passin env:KEY_PASSWORD (never the password itself).
set -eu
key=$1
shift
exec openssl pkeyutl -sign -inkey "$key" -pkeyopt "digest:$DRVSIGN_DIGEST_ALGORITHM" "$@"
