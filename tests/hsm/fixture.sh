#!/usr/bin/env bash
# CTest fixture: a SoftHSM2 token in a temp dir (SOFTHSM2_CONF) holding the test PKI's RSA and EC
# signing keys and their certificates, as an EV token or HSM would. PIN 1234.
# Usage: fixture.sh start|stop PKI_DIR STATE_DIR
set -euo pipefail
cmd=$1 pki=$2 state=$3
case $cmd in
  start)
    rm -rf "$state"
    mkdir -p "$state/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$state" \
      >"$state/softhsm2.conf"
    export SOFTHSM2_CONF="$state/softhsm2.conf"
    module=""
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
      [ -f "$m" ] && { module=$m; break; }
    done
    [ -n "$module" ] || { echo "SoftHSM2 is not installed (scripts/deps.sh test installs it)"; exit 1; }
    echo "$module" >"$state/module"
    echo 1234 >"$state/pin"
    echo 9999 >"$state/badpin"
    softhsm2-util --init-token --free --label drvsign --pin 1234 --so-pin 5678 >/dev/null
    import() { # key cert id label
      openssl pkcs8 -topk8 -nocrypt -in "$pki/$1" -out "$state/$4.p8"
      softhsm2-util --import "$state/$4.p8" --token drvsign --label "$4" --id "$3" --pin 1234 >/dev/null
      rm -f "$state/$4.p8"
      openssl x509 -in "$pki/$2" -outform DER -out "$state/$4.der"
      pkcs11-tool --module "$module" --login --pin 1234 --write-object "$state/$4.der" --type cert \
        --id "$3" --label "$4" >/dev/null 2>&1
    }
    import leaf.key leaf.pem 01 leaf
    import leaf-ec.key leaf-ec.pem 02 ec
    import leaf-ec384.key leaf-ec384.pem 03 ec384
    echo "SoftHSM2 token 'drvsign' in $state (module $module)"
    ;;
  stop)
    rm -rf "$state"
    ;;
esac
