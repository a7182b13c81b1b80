#!/usr/bin/env bash
# Installs tansu, a Kafka-protocol broker written in Rust, from crates.io: no Kafka distribution
# can be had from the package registries this project may use. Built with the in-memory
# (`dynostore`, `memory://`), SQLite (`libsql`, `sqlite://FILE`: durable, used by the broker
# restart test) and Postgres storage engines. Skipped when the right version with these engines is
# already installed: the build takes 10 to 40 minutes on 2 cores.
set -euo pipefail
source "$(dirname "$0")/env.sh"
features=dynostore,libsql,postgres
stamp="$PUBMINE_TOOLS/tansu-$TANSU_VERSION/features"
if [ -x "$TANSU_BIN" ] && "$TANSU_BIN" --version 2>/dev/null | grep -q "$TANSU_VERSION" &&
  [ "$(cat "$stamp" 2>/dev/null)" = "$features" ]; then
  exit 0
fi
if [ -x "$TANSU_BIN" ]; then
  log "tansu at $TANSU_BIN is not $TANSU_VERSION with $features; reinstalling"
fi
log "building tansu $TANSU_VERSION from crates.io into $PUBMINE_TOOLS (10-40 minutes, once)"
cargo install --locked tansu --version "$TANSU_VERSION" --features "$features" \
  --root "$PUBMINE_TOOLS/tansu-$TANSU_VERSION"
echo "$features" >"$stamp"
