#!/usr/bin/env bash
# The main job on the bundled samples (samples/) as a distributed deployment runs it: every
# stage as its own process around a local broker (scripts/demo.sh runs it in one process, with
# no broker): ingest PubMed and PMC files into the documents topic; an annotate
# worker runs the project's real NER model (one encoder, a Disease, a Chemical, a Gene and a Species head) and its
# chemical-induced disease and gene-disease relation models (fine-tuned here; not BioBERT;
# models/, through ONNX Runtime); store writes the annotations to Postgres (database
# pubmine_demo) and index to a tantivy directory (target/demo/index); then it searches the
# index and queries the dashboard views. Each run uses topics of its own.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PUBMINE_ROOT"
"$PUBMINE_ROOT/scripts/postgres.sh"
brokers=$("$PUBMINE_ROOT/scripts/broker.sh" start)
ORT_DYLIB_PATH=$("$PUBMINE_ROOT/scripts/install-onnxruntime.sh")
export ORT_DYLIB_PATH
cargo build --release --locked -q
bin="$PUBMINE_ROOT/target/release/pubmine"

run=$(date +%s)
export PUBMINE_BROKERS=$brokers
export PUBMINE_DOCUMENTS_TOPIC=demo-$run.documents
export PUBMINE_ANNOTATIONS_TOPIC=demo-$run.annotations
export PUBMINE_DEAD_LETTER_TOPIC=demo-$run.dead-letter
export PUBMINE_LOG=${PUBMINE_LOG:-warn}
db=pubmine_demo
export DATABASE_URL=$PUBMINE_PG_ADMIN_URL/$db
index=target/demo/index
psql -q "$PUBMINE_PG_ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -rf "$index" && mkdir -p "$index"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

log "ingesting samples/ into $brokers"
summary=$("$bin" ingest samples/ --no-progress)
python3 - "$summary" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
print(f"ingest: sent {s['documents']} documents and {s['deletions']} deletions from {s['files']} files "
      f"({s['bytes'] / 1e6:.2f} MB) in {s['seconds']:.2f} s; "
      f"{s['dead_lettered']} records dead-lettered, {s['failed_files']} files failed")
PY
records=$(python3 -c "import json,sys; s=json.loads(sys.argv[1]); print(s['documents']+s['deletions'])" "$summary")

log "starting annotate (ner-multi: disease, chemical, gene, species; re-cdr, re-gad), store and index"
"$bin" annotate --group demo-$run-annotate --model models/ner-multi --re-model models/re-cdr \
  --re-model models/re-gad &
pids+=($!)
"$bin" store --group demo-$run-store >/dev/null &
pids+=($!)
"$bin" index --index "$index" --group demo-$run-index --commit-interval 1s >/dev/null &
pids+=($!)

# Every record reaches Postgres (the store's offsets, kept in the database, count them).
for _ in $(seq 1 300); do
  stored=$(psql -Atq "$DATABASE_URL" -c "SELECT coalesce(sum(next_offset), 0) FROM sink_offsets" 2>/dev/null || echo 0)
  [ "${stored:-0}" -ge "$records" ] && break
  sleep 1
done
[ "${stored:-0}" -ge "$records" ] || { log "the pipeline did not catch up in 5 minutes"; exit 1; }
sleep 2 # one more index commit
kill -TERM "${pids[@]}"
wait "${pids[@]}" 2>/dev/null || true
pids=()
"$PUBMINE_ROOT/scripts/demo-report.sh" "$bin" "$index"
