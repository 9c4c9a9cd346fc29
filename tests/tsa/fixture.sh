#!/usr/bin/env bash
# CTest fixture for the test TSA: start (in the background, waiting for its port) or stop.
# Usage: fixture.sh start|stop PKI_DIR STATE_DIR
set -euo pipefail
cmd=$1 pki=$2 state=$3
case $cmd in
  start)
    mkdir -p "$state"
    rm -f "$state/port"
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then kill "$(cat "$state/pid")"; fi
    nohup /usr/bin/python3 "$(dirname "$0")/tsa.py" "$pki" "$state/port" >"$state/log" 2>&1 &
    echo $! >"$state/pid"
    for _ in $(seq 100); do [ -s "$state/port" ] && break; sleep 0.1; done
    [ -s "$state/port" ] || { cat "$state/log"; echo "the test TSA did not start"; exit 1; }
    read -r http https <"$state/port"
    echo "test TSA on http://127.0.0.1:$http and https://127.0.0.1:$https"
    ;;
  stop)
    [ -f "$state/pid" ] && kill "$(cat "$state/pid")" 2>/dev/null || true
    rm -f "$state/pid" "$state/port"
    ;;
esac
