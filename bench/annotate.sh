#!/usr/bin/env bash
# NER throughput: pubmine (ONNX Runtime) beside the Hugging Face token-classification pipeline
# (PyTorch) on the same BERT-base-size model (random weights), the same realistic abstracts
# (bench/gen_medline.py), the same number of CPU threads; and whether their spans agree.
#   bench/annotate.sh [ARTICLES] [THREADS]     (default 300 articles, 2 threads)
# Needs the venv of models/requirements.txt (PyTorch) for the reference side.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
articles=${1:-300}
threads=${2:-2}
py=${PUBMINE_MODELS_PYTHON:-$PUBMINE_TOOLS/venv-models/bin/python}
out=$PWD/bench/out
model=$out/bert-base-random
mkdir -p "$out"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH
[ -f "$model/model.onnx" ] || "$py" bench/annotate_reference.py make "$model" >&2
xml=$out/abstracts_${articles}.xml
[ -f "$xml" ] || python3 bench/gen_medline.py --articles "$articles" "$xml" >&2
cargo build --release --locked -q
bin=target/release/pubmine
"$bin" ingest parse "$xml" >"$out/abstracts.jsonl"

"$bin" annotate --input "$out/abstracts.jsonl" --model "$model" --threads "$threads" \
  --log-format json --log info >"$out/pubmine_annotations.jsonl" 2>"$out/pubmine_annotate.log"
"$py" bench/annotate_reference.py run "$model" "$out/abstracts.jsonl" "$out/hf_entities.jsonl" \
  --threads "$threads" >"$out/hf.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
st = next(json.loads(l)["fields"] for l in open(f"{out}/pubmine_annotate.log")
          if '"annotated"' in l)
hf = json.load(open(f"{out}/hf.json"))
ours = set()
for line in open(f"{out}/pubmine_annotations.jsonl"):
    a = json.loads(line)
    for m in a.get("mentions", []):
        ours.add((a["id"], m["passage"], m["start"], m["end"], m["type"]))
theirs = set()
for line in open(f"{out}/hf_entities.jsonl"):
    e = json.loads(line)
    theirs.add((e["id"], e["passage"], e["start"], e["end"], e["type"]))
agree = len(ours & theirs) / max(1, len(ours | theirs))
p_tps = st["tokens_per_s"]
p_dps = st["documents"] / st["seconds"]
print(f"{st['documents']} documents, {st['tokens']} tokens; BERT-base size, {hf['threads']} threads")
print(f"{'runner':44} {'tokens/s':>10} {'docs/s':>8} {'x HF':>6}")
print(f"{'pubmine (ONNX Runtime 1.31, fp32)':44} {p_tps:10.0f} {p_dps:8.2f} {p_tps / hf['tokens_per_s']:6.2f}")
print(f"{hf['runner']:44} {hf['tokens_per_s']:10.0f} {hf['docs_per_s']:8.2f} {1.0:6.2f}")
print(f"padding: {st['padded_tokens'] / st['tokens'] - 1:.1%} extra token slots over {st['batches']} batches")
print(f"spans agreeing (same passage, offsets and type): {agree:.2%} "
      f"({len(ours & theirs)} of {len(ours | theirs)}; pubmine {len(ours)}, HF {len(theirs)})")
PY
