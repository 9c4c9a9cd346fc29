#!/usr/bin/env bash
# A signer command that first checks what drvsign hands it: the raw digest on stdin, and the
# same digest in DRVSIGN_DIGEST_HEX and DRVSIGN_DIGEST_BASE64, its algorithm, the key type, the
# file, and the signed attributes whose digest it is. Then it signs with KEY (argv[1]).
set -euo pipefail
digest=$(od -An -v -tx1 | tr -d ' \n')
fail() { echo "env-checking-signer: $*" >&2; exit 3; }
[ "$digest" = "$DRVSIGN_DIGEST_HEX" ] || fail "stdin $digest is not DRVSIGN_DIGEST_HEX $DRVSIGN_DIGEST_HEX"
[ "$(printf '%s' "$DRVSIGN_DIGEST_BASE64" | base64 -d | od -An -v -tx1 | tr -d ' \n')" = "$digest" ] || fail "DRVSIGN_DIGEST_BASE64"
[ "$DRVSIGN_DIGEST_ALGORITHM" = "$2" ] || fail "DRVSIGN_DIGEST_ALGORITHM is $DRVSIGN_DIGEST_ALGORITHM"
[ "$DRVSIGN_KEY_TYPE" = "$3" ] || fail "DRVSIGN_KEY_TYPE is $DRVSIGN_KEY_TYPE"
[ "$(basename "$DRVSIGN_FILE")" = "$4" ] || fail "DRVSIGN_FILE is $DRVSIGN_FILE"
[ "$(printf '%s' "$DRVSIGN_SIGNED_ATTRS_BASE64" | base64 -d | openssl dgst "-$2" -binary | od -An -v -tx1 | tr -d ' \n')" = "$digest" ] ||
  fail "the digest is not that of DRVSIGN_SIGNED_ATTRS_BASE64"
printf '%s' "$DRVSIGN_DIGEST_BASE64" | base64 -d | openssl pkeyutl -sign -inkey "$1" -pkeyopt "digest:$2"
