#!/usr/bin/env bash
# A longer soak of the chaos test (tests/chaos.rs): DOCS generated PubMed articles (and their
# revisions, deletions and PMC articles) through ingest, two annotate workers, store and index
# as separate processes, KILLS processes killed with SIGKILL at random and restarted, then
# Postgres and the index compared row for row with an uninterrupted run of the same input.
#   bench/chaos.sh [DOCS] [KILLS]      (default 10000 documents, 20 kills)
# Needs the local broker and Postgres (scripts/test.sh starts them) and ORT_DYLIB_PATH.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$PUBMINE_ROOT"
"$PUBMINE_ROOT/scripts/postgres.sh"
PUBMINE_TEST_BROKERS=$("$PUBMINE_ROOT/scripts/broker.sh" start)
ORT_DYLIB_PATH=$("$PUBMINE_ROOT/scripts/install-onnxruntime.sh")
export PUBMINE_TEST_BROKERS ORT_DYLIB_PATH
PUBMINE_CHAOS_DOCS=${1:-10000} PUBMINE_CHAOS_KILLS=${2:-20} \
  cargo test --release --locked --test chaos -- --nocapture
