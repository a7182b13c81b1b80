#!/usr/bin/env bash
# PubMed scale: the store and index sinks, the dashboards and the reads as the data grows.
# Writes generated annotation records shaped like real ones through the real sinks in steps and,
# at each step, measures store and index documents/s, bytes per document, the dashboards'
# per-batch cost and the p50/p99 latency of each read; prints a table, writes a CSV and plots
# each figure against the number of documents (store/benches/scale.rs says what it generates).
#   bench/scale.sh [STEPS] [OUT_DIR]   (default 10000,30000,100000,300000,1000000; target/scale)
#   SCALE_ONLY=search bench/scale.sh ...   the index and the searches alone (no database, no plot)
# Needs the local Postgres (scripts/postgres.sh); uses a scratch database it drops after, and a
# Python venv with matplotlib for the plot (made under $PUBMINE_TOOLS on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
steps=${1:-10000,30000,100000,300000,1000000}
out=$(realpath -m "${2:-target/scale}")
mkdir -p "$out"
cargo bench --locked -q -p pubmine-store --bench scale -- "$steps" "$out/scale.csv"
[ -n "${SCALE_ONLY:-}" ] && exit 0
py=$PUBMINE_TOOLS/venv-bench/bin/python
if ! "$py" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$PUBMINE_TOOLS/venv-bench"
  "$py" -m pip install -q -r bench/requirements.txt
fi
"$py" bench/scale_plot.py "$out/scale.csv" "$out/scale.png"
