#!/usr/bin/env bash
# Starts, stops or checks the local Kafka-protocol broker (tansu) used by the demo and the tests.
#   scripts/broker.sh start   # idempotent: does nothing when it already runs; prints the address
#   scripts/broker.sh stop
#   scripts/broker.sh status
# Storage is in memory (`memory://`): a restart of the broker forgets every topic. Set
# PUBMINE_BROKER_STORAGE=sqlite://tansu.db for a durable broker (a file in the broker's directory,
# $PUBMINE_BROKER_DIR).
set -euo pipefail
source "$(dirname "$0")/env.sh"
addr="127.0.0.1:$PUBMINE_BROKER_PORT"
pidfile="$PUBMINE_BROKER_DIR/pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PUBMINE_BROKER_PORT") 2>/dev/null; }
case "${1:-start}" in
  start)
    if running && port_open; then echo "$addr"; exit 0; fi
    "$(dirname "$0")/install-broker.sh"
    mkdir -p "$PUBMINE_BROKER_DIR"
    log "starting tansu on $addr (log: $PUBMINE_BROKER_DIR/log)"
    cd "$PUBMINE_BROKER_DIR"
    RUST_LOG=${TANSU_LOG:-warn} nohup "$TANSU_BIN" broker \
      --listener-url "tcp://$addr" --advertised-listener-url "tcp://$addr" \
      --storage-engine "${PUBMINE_BROKER_STORAGE:-memory://tansu/}" \
      >"$PUBMINE_BROKER_DIR/log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if port_open; then echo "$addr"; exit 0; fi
      if ! running; then break; fi
      sleep 0.1
    done
    log "tansu did not start; its log:"; cat "$PUBMINE_BROKER_DIR/log" >&2; exit 1
    ;;
  stop)
    if running; then kill "$(cat "$pidfile")"; rm -f "$pidfile"; log "broker stopped"; fi
    ;;
  status)
    if running && port_open; then echo "running on $addr"; else echo "not running"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
