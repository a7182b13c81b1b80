#!/usr/bin/env bash
# RE throughput: pubmine (ONNX Runtime) beside the Hugging Face text-classification pipeline
# (PyTorch) on the same BERT-base-size sequence classifier (random weights), the same tagged
# gene-disease sentences (BioBERT's RE test.tsv format), the same number of CPU threads; and
# whether their label probabilities agree.
#   bench/re.sh [SENTENCES] [THREADS]     (default 2000 sentences, 2 threads)
# Needs the venv of models/requirements.txt (PyTorch) for the reference side.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sentences=${1:-2000}
threads=${2:-2}
py=${PUBMINE_MODELS_PYTHON:-$PUBMINE_TOOLS/venv-models/bin/python}
out=$PWD/bench/out
model=$out/bert-base-re-random
mkdir -p "$out"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH
[ -f "$model/model.onnx" ] || "$py" bench/re_reference.py make "$model" >&2
tsv=$out/re_${sentences}.tsv
[ -f "$tsv" ] || "$py" bench/re_reference.py data "$tsv" "$sentences"
cargo build --release --locked -q
bin=target/release/pubmine

"$bin" eval re --model "$model" --data "$tsv" --threads "$threads" \
  --predictions "$out/pubmine_re_results.tsv" >"$out/pubmine_re.json"
"$py" bench/re_reference.py run "$model" "$tsv" "$out/hf_re_results.tsv" --threads "$threads" >"$out/hf_re.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
ours = json.load(open(f"{out}/pubmine_re.json"))
hf = json.load(open(f"{out}/hf_re.json"))
rows = lambda p: [[float(x) for x in l.split("\t")] for l in open(p) if l.strip()]
a, b = rows(f"{out}/pubmine_re_results.tsv"), rows(f"{out}/hf_re_results.tsv")
assert len(a) == len(b) == hf["pairs"]
argmax = lambda r: max(range(len(r)), key=r.__getitem__)
same = sum(argmax(x) == argmax(y) for x, y in zip(a, b))
diff = max(abs(p - q) for x, y in zip(a, b) for p, q in zip(x, y))
print(f"{hf['pairs']} tagged sentences, {hf['tokens']} tokens ({hf['tokens'] / hf['pairs']:.1f} per sentence); "
      f"BERT-base size, {hf['threads']} threads")
print(f"{'runner':52} {'pairs/s':>9} {'x HF':>6}")
print(f"{'pubmine (ONNX Runtime 1.31, fp32)':52} {ours['pairs_per_s']:9.1f} {ours['pairs_per_s'] / hf['pairs_per_s']:6.2f}")
print(f"{hf['runner']:52} {hf['pairs_per_s']:9.1f} {1.0:6.2f}")
print(f"padding: {ours['padded_tokens'] / ours['tokens'] - 1:.1%} extra token slots (pubmine, token budget 8192)")
print(f"same label: {same / len(a):.2%} ({same} of {len(a)}); largest probability difference {diff:.1e}")
PY
