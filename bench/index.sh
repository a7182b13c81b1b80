#!/usr/bin/env bash
# Index throughput: mentions per second into the tantivy entity index through the sink's own
# write path (schema, snippets, replacement lookups, commits with offsets), beside bare tantivy
# indexing only the mention texts, in the same process, on the same generated annotations.
#   bench/index.sh [PAPERS] [THREADS]     (default 20000 papers, 2 writer threads)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -q -p pubmine-index --bench index_throughput -- "${1:-20000}" "${2:-2}"
