#!/usr/bin/env bash
# Store throughput: mentions per second into Postgres through the store sink's write path,
# beside COPY of the same mention rows alone, in the same process and database.
#   bench/store.sh [PAPERS] [BATCH]     (default 20000 papers, batches of 500)
# Needs the local Postgres (scripts/postgres.sh); uses a scratch database it drops after.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -q -p pubmine-store --bench store_throughput -- "${1:-20000}" "${2:-500}"
