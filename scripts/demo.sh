#!/usr/bin/env bash
# The main job on the bundled samples (samples/), in one process and with no broker:
# `pubmine run` ingests the PubMed and PMC files, runs the project's real NER model (one small
# encoder with a Disease, a Chemical, a Gene and a Species head, fine-tuned here on NCBI-disease with
# BC5CDR-disease, BC5CDR-chem, BC2GM and LINNAEUS, int8; not BioBERT) and its real relation models, fine-tuned
# here on the CDR training set (chemical-induced disease) and on a GAD fold (gene-disease
# association) (models/, through ONNX Runtime), stores the
# annotations in Postgres (database pubmine_demo) and indexes them (target/demo/index); then it
# searches the index and queries the dashboard views. scripts/demo-kafka.sh runs the same job as
# separate processes around a local broker, as a distributed deployment does.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PUBMINE_ROOT"
"$PUBMINE_ROOT/scripts/postgres.sh"
ORT_DYLIB_PATH=$("$PUBMINE_ROOT/scripts/install-onnxruntime.sh")
export ORT_DYLIB_PATH
cargo build --release --locked -q
bin="$PUBMINE_ROOT/target/release/pubmine"

export PUBMINE_LOG=${PUBMINE_LOG:-warn}
db=pubmine_demo
export DATABASE_URL=$PUBMINE_PG_ADMIN_URL/$db
index=target/demo/index
psql -q "$PUBMINE_PG_ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -rf "$index" target/demo/dead-letters.jsonl && mkdir -p "$index"

log "pubmine run samples/ (ner-multi: disease, chemical, gene, species; re-cdr, re-gad)"
"$bin" run samples/ --model models/ner-multi \
  --re-model models/re-cdr --re-model models/re-gad --index "$index" \
  --dead-letters target/demo/dead-letters.jsonl --commit-interval 1s
"$PUBMINE_ROOT/scripts/demo-report.sh" "$bin" "$index"
