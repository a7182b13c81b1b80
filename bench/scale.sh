#!/usr/bin/env bash
# PubMed scale: the store and index sinks, the dashboards and the reads as the data grows.
# Writes generated annotation records shaped like real ones through the real sinks in steps and,
# at each step, measures store and index documents/s, bytes per document, the dashboards'
# per-batch cost and the p50/p99 latency of each read; prints a table, writes a CSV and plots
# each figure against the number of documents (store/benches/scale.rs says what it generates).
#   bench/scale.sh [STEPS] [OUT_DIR]   (default 10000,30000,100000,300000,1000000; target/scale)
#   SCALE_ONLY=search bench/scale.sh ...   the index and the searches alone (no database, no plot)
#   SCALE_PG_SETTINGS="name=value ..." bench/scale.sh ...   other Postgres settings ("": defaults)
#   SCALE_PG=server bench/scale.sh ...   the server of PUBMINE_PG_ADMIN_URL as it is set
# Needs Postgres' server binaries (scripts/postgres.sh installs them), and a Python venv with
# matplotlib for the plot (made under $PUBMINE_TOOLS on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
steps=${1:-10000,30000,100000,300000,1000000}
out=$(realpath -m "${2:-target/scale}")
mkdir -p "$out"
# The database: a scratch Postgres cluster of the bench's own (initdb with the server binaries
# scripts/postgres.sh installs, a free port, removed after), started with the settings that
# docs/operations.md recommends for the store, so that the figures do not depend on how the
# machine's server is set. SCALE_PG_SETTINGS overrides them ("" for Postgres' defaults);
# SCALE_PG=server writes to the server of PUBMINE_PG_ADMIN_URL as it is instead.
pg_settings=${SCALE_PG_SETTINGS-shared_buffers=4GB max_wal_size=16GB checkpoint_timeout=30min wal_compression=lz4}
if [ -z "${SCALE_ONLY:-}" ] && [ "${SCALE_PG:-}" != server ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bin/initdb" ] || { log "no Postgres server binaries (scripts/postgres.sh installs them)"; exit 1; }
  pgdir=$out/postgres
  rm -rf "$pgdir" && mkdir -p "$pgdir"
  as=()
  # initdb refuses to run as root: the cluster runs as the postgres user then.
  if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; as=(runuser -u postgres --); fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  opts="-p $port -k $pgdir -c listen_addresses=127.0.0.1"
  for s in $pg_settings; do opts+=" -c $s"; done
  "${as[@]}" "$bin/initdb" -A trust -U postgres --no-sync -D "$pgdir/data" >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$pgdir/data" -o "$opts" -l "$pgdir/log" -w start >/dev/null
  trap '"${as[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null; rm -rf "$pgdir"' EXIT
  export PUBMINE_PG_ADMIN_URL=postgres://postgres@127.0.0.1:$port
  log "a scratch Postgres cluster on port $port: ${pg_settings:-the default settings}"
fi
cargo bench --locked -q -p pubmine-store --bench scale -- "$steps" "$out/scale.csv"
[ -n "${SCALE_ONLY:-}" ] && exit 0
py=$PUBMINE_TOOLS/venv-bench/bin/python
if ! "$py" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$PUBMINE_TOOLS/venv-bench"
  "$py" -m pip install -q -r bench/requirements.txt
fi
"$py" bench/scale_plot.py "$out/scale.csv" "$out/scale.png"
