#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run): starts what the tests talk to (Postgres,
# a Kafka-protocol broker, the ONNX Runtime library, Chromium and playwright-core for the page),
# then checks formatting, lints, the SQL metadata, and runs every test.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PUBMINE_ROOT"
"$PUBMINE_ROOT/scripts/postgres.sh"
PUBMINE_TEST_BROKERS=$("$PUBMINE_ROOT/scripts/broker.sh" start)
export PUBMINE_TEST_BROKERS
ORT_DYLIB_PATH=$("$PUBMINE_ROOT/scripts/install-onnxruntime.sh")
export ORT_DYLIB_PATH
# Chromium and playwright-core for the search page's browser test (tests/page.rs).
PUBMINE_CHROMIUM=$("$PUBMINE_ROOT/scripts/install-browser.sh")
export PUBMINE_CHROMIUM
log "broker $PUBMINE_TEST_BROKERS, postgres $PUBMINE_PG_ADMIN_URL, onnxruntime $ORT_DYLIB_PATH, chromium $PUBMINE_CHROMIUM"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The CUDA build cannot run here (no GPU), but it must keep compiling.
log "cargo check --features cuda"
cargo check -p pubmine-annotate --features cuda --locked
log "sqlx metadata check"
"$PUBMINE_ROOT/scripts/sqlx-prepare.sh" --check
log "cargo test"
cargo test --workspace --locked --no-fail-fast
