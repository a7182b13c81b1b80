#!/usr/bin/env bash
# The main job on the bundled samples (samples/): starts a local broker, ingests PubMed and PMC
# files into the documents topic and prints what was sent; then annotates the same documents with
# the project's demo NER models (models/, through ONNX Runtime) and prints the entities found.
# It grows with each stage.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PUBMINE_ROOT"
brokers=$("$PUBMINE_ROOT/scripts/broker.sh" start)
ORT_DYLIB_PATH=$("$PUBMINE_ROOT/scripts/install-onnxruntime.sh")
export ORT_DYLIB_PATH
cargo build --release --locked -q
bin="$PUBMINE_ROOT/target/release/pubmine"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

log "ingesting samples/ into $brokers"
summary=$("$bin" ingest samples/ --brokers "$brokers" --no-progress)
echo "$summary"
python3 - "$summary" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
print(f"sent {s['documents']} documents and {s['deletions']} deletions from {s['files']} files "
      f"({s['bytes'] / 1e6:.2f} MB) in {s['seconds']:.2f} s; "
      f"{s['dead_lettered']} records dead-lettered, {s['failed_files']} files failed")
PY

log "annotating with models/demo-ner and models/demo-ner-gene (demo models, not BioBERT)"
"$bin" ingest parse samples/ >"$out/documents.jsonl"
"$bin" annotate --input "$out/documents.jsonl" --model models/demo-ner --model models/demo-ner-gene \
  --log warn >"$out/annotations.jsonl"
python3 - "$out/annotations.jsonl" <<'PY'
import collections, json, sys
per_type, texts, docs = collections.Counter(), collections.defaultdict(collections.Counter), 0
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a.get("deleted"):
        continue
    docs += 1
    for m in a["mentions"]:
        per_type[m["type"]] += 1
        texts[m["type"]][m["text"]] += 1
print(f"annotated {docs} documents: " + ", ".join(f"{n} {t}" for t, n in per_type.most_common()))
for t, c in texts.items():
    print(f"  top {t}: " + ", ".join(f"{w} ({n})" for w, n in c.most_common(5)))
PY
