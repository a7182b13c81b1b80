#!/usr/bin/env bash
# NER throughput: pubmine (ONNX Runtime) beside the Hugging Face token-classification pipeline
# (PyTorch) on the same BERT-base-size model (random weights), the same realistic abstracts
# (bench/gen_medline.py), the same number of CPU threads; and whether their spans agree. pubmine
# runs the model as the pipeline reads text (whole passages in windows of up to 512 tokens: the
# spans must agree), then with its default inputs (each sentence an input of at most 128 tokens),
# in float32 and quantized to int8 (models/export.py --from-onnx --int8). Beside them, the CPU's
# matrix-product rates on the model's own layer shapes (annotate_reference.py gemm: float32 through
# PyTorch and ONNX Runtime, int8 through ONNX Runtime), and each pubmine run as a share of them.
# Last, the main job's four entity types on the same abstracts: the four committed single-type int8
# models (models/ner-disease, -chemical, -gene, -species: four encoder passes) against the one
# multi-head int8 model (models/ner-multi: one pass, four heads), REPEATS runs of each, alternated,
# with their median and range.
#   bench/annotate.sh [ARTICLES] [THREADS] [REPEATS]     (default 300 articles, 2 threads, 3 runs)
# Needs the venv of models/requirements.txt (PyTorch) for the reference side.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
articles=${1:-300}
threads=${2:-2}
repeats=${3:-3}
py=${PUBMINE_MODELS_PYTHON:-$PUBMINE_TOOLS/venv-models/bin/python}
out=$PWD/bench/out
model=$out/bert-base-random
mkdir -p "$out"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH
[ -f "$model/model.onnx" ] || "$py" bench/annotate_reference.py make "$model" >&2
[ -f "$model-int8/model.onnx" ] || "$py" models/export.py --from-onnx --int8 "$model" "$model-int8" >&2
xml=$out/abstracts_${articles}.xml
[ -f "$xml" ] || python3 bench/gen_medline.py --articles "$articles" "$xml" >&2
cargo build --release --locked -q
bin=target/release/pubmine
"$bin" ingest parse "$xml" >"$out/abstracts.jsonl"

"$bin" annotate --input "$out/abstracts.jsonl" --model "$model" --threads "$threads" \
  --ner-inputs passages --max-len 512 --stride 128 \
  --log-format json --log info >"$out/pubmine_passages_annotations.jsonl" 2>"$out/pubmine_passages_annotate.log"
"$bin" annotate --input "$out/abstracts.jsonl" --model "$model" --threads "$threads" \
  --log-format json --log info >"$out/pubmine_annotations.jsonl" 2>"$out/pubmine_annotate.log"
"$bin" annotate --input "$out/abstracts.jsonl" --model "$model-int8" --threads "$threads" \
  --log-format json --log info >"$out/pubmine_int8_annotations.jsonl" 2>"$out/pubmine_int8_annotate.log"
# four types: four single-type models, then one multi-head model, alternated
singles=()
for t in disease chemical gene species; do singles+=(--model "models/ner-$t"); done
for r in $(seq "$repeats"); do
  "$bin" annotate --input "$out/abstracts.jsonl" "${singles[@]}" --threads "$threads" \
    --log-format json --log info >"$out/four_singles_$r.jsonl" 2>"$out/four_singles_$r.log"
  "$bin" annotate --input "$out/abstracts.jsonl" --model models/ner-multi --threads "$threads" \
    --log-format json --log info >"$out/four_heads_$r.jsonl" 2>"$out/four_heads_$r.log"
done
"$py" bench/annotate_reference.py run "$model" "$out/abstracts.jsonl" "$out/hf_entities.jsonl" \
  --threads "$threads" >"$out/hf.json"
"$py" bench/annotate_reference.py gemm "$model" --threads "$threads" >"$out/gemm.json"
# Where the int8 model's time goes, on batches shaped as the int8 run's (its mean input length).
read -r len rows < <(python3 -c '
import json, sys
s = next(json.loads(l)["fields"] for l in open(sys.argv[1]) if "\"annotated\"" in l)
n = round(s["padded_tokens"] / s["windows"])
print(n, 8192 // n)' "$out/pubmine_int8_annotate.log")
"$py" bench/annotate_reference.py profile "$model-int8" --threads "$threads" --rows "$rows" --len "$len" >"$out/profile_int8.json"
python3 - "$out" "$repeats" <<'PY'
import json, statistics, sys
out, repeats = sys.argv[1], int(sys.argv[2])

def stats(log):
    return next(json.loads(l)["fields"] for l in open(f"{out}/{log}") if '"annotated"' in l)

def spans(path, key):
    got = set()
    for line in open(f"{out}/{path}"):
        a = json.loads(line)
        if key == "pubmine":
            got |= {(a["id"], m["passage"], m["start"], m["end"], m["type"]) for m in a.get("mentions", [])}
        else:
            got.add((a["id"], a["passage"], a["start"], a["end"], a["type"]))
    return got

def agree(a, b):
    return f"{len(a & b) / max(1, len(a | b)):.2%} ({len(a & b)} of {len(a | b)}; {len(a)} and {len(b)})"

stp, st, st8 = (stats(f"pubmine_{k}annotate.log") for k in ("passages_", "", "int8_"))
hf = json.load(open(f"{out}/hf.json"))
ours, ours8 = spans("pubmine_annotations.jsonl", "pubmine"), spans("pubmine_int8_annotations.jsonl", "pubmine")
whole = spans("pubmine_passages_annotations.jsonl", "pubmine")
theirs = spans("hf_entities.jsonl", "hf")
threads = hf["threads"]
print(f"{st['documents']} documents, {st['tokens']} tokens; BERT-base size, {threads} threads")
print(f"{'runner':44} {'tokens/s':>10} {'docs/s':>8} {'x HF':>6}")
for name, s in (("pubmine fp32, passages (512-token windows)", stp), ("pubmine fp32, sentences (128 tokens)", st),
                ("pubmine int8, sentences (128 tokens)", st8)):
    print(f"{name:44} {s['tokens_per_s']:10.0f} {s['documents'] / s['seconds']:8.2f} "
          f"{s['tokens_per_s'] / hf['tokens_per_s']:6.2f}")
print(f"{hf['runner']:44} {hf['tokens_per_s']:10.0f} {hf['docs_per_s']:8.2f} {1.0:6.2f}")
for name, s in (("passages", stp), ("sentences", st)):
    print(f"{name}: {s['windows']} inputs, {s['padded_tokens'] / s['tokens'] - 1:.1%} extra token slots "
          f"(padding, [CLS] and [SEP], overlaps) over {s['batches']} batches")
gemm = json.load(open(f"{out}/gemm.json"))


def per_token(s):
    """Matrix-product FLOPs per text token: the linear layers' (gemm.json) and the attention
    scores' (2 products of input length x hidden per layer) at the run's mean input length."""
    return gemm["flops_per_token"] + 4 * gemm["layers"] * gemm["hidden"] * s["padded_tokens"] / s["windows"]


for name, s in (("passages", stp), ("sentences", st)):
    rate = s["tokens_per_s"] * per_token(s) / 1e9
    print(f"pubmine fp32, {name}: {rate:.1f} GFLOP/s of matrix products per text token, "
          f"{rate / gemm['gflops']:.0%} of the CPU's float32 matrix-product rate "
          f"({gemm['gflops']:.1f} GFLOP/s, PyTorch, the model's linear layers at {gemm['rows']} rows; "
          f"counting padding and overlaps, {rate * s['padded_tokens'] / s['tokens'] / gemm['gflops']:.0%}), "
          f"{rate / gemm['ort_fp32_gflops']:.0%} of ONNX Runtime's ({gemm['ort_fp32_gflops']:.1f} GFLOP/s)")
rate8 = st8["tokens_per_s"] * per_token(st8) / 1e9
ceiling = gemm["ort_int8_gops"] * 1e9 / per_token(st8)
print(f"pubmine int8, sentences: {rate8:.1f} GOP/s per text token, {rate8 / gemm['ort_int8_gops']:.0%} of ONNX Runtime's "
      f"int8 matrix-product rate on this CPU ({gemm['ort_int8_gops']:.1f} GOP/s, float32 {gemm['ort_fp32_gflops']:.1f}); "
      f"were every operation an int8 matrix product at that rate: {ceiling:.0f} tokens/s, "
      f"{ceiling / hf['tokens_per_s']:.2f}x HF")
prof = json.load(open(f"{out}/profile_int8.json"))
shares = prof["shares"]
matrix = {"DynamicQuantizeMatMul", "QAttention", "MatMulInteger", "DynamicQuantizeLinear", "QEmbedLayerNormalization"}
rest = sum(v for k, v in shares.items() if k not in matrix)
print(f"int8 time by operator (ONNX Runtime's profiler, {prof['rows']} inputs of {prof['length']} tokens): "
      + ", ".join(f"{k} {v:.1%}" for k, v in shares.items() if v >= 0.001))
print(f"  the operators that stay float32 (layer norms, GELU, ...) take {rest:.1%}; were they free, int8 would run at "
      f"{st8['tokens_per_s'] / (1 - rest):.0f} tokens/s, {st8['tokens_per_s'] / (1 - rest) / hf['tokens_per_s']:.2f}x HF")
print(f"spans agreeing (same passage, offsets and type), pubmine fp32 on passages and HF: {agree(whole, theirs)}")
print(f"spans agreeing, pubmine int8 and fp32 (random weights: near-tied logits): {agree(ours8, ours)}")

# the four entity types: four single-type models against one multi-head model
runs = {k: [stats(f"four_{k}_{r}.log") for r in range(1, repeats + 1)] for k in ("singles", "heads")}
text_tokens = runs["heads"][0]["tokens"]  # one model: each text token once
assert all(s["tokens"] == 4 * text_tokens for s in runs["singles"]), "the four models share one tokenizer"
rate = {k: [text_tokens / s["seconds"] for s in v] for k, v in runs.items()}
infer = {k: [text_tokens / s["inference_seconds"] for s in v] for k, v in runs.items()}


def spread(xs):
    return f"{statistics.median(xs):8.0f} ({min(xs):.0f} to {max(xs):.0f})"


print(f"four entity types (Disease, Chemical, Gene, Species), int8, {text_tokens} text tokens, {threads} threads, "
      f"{repeats} runs each, median (range):")
print(f"{'runner':44} {'text tokens/s':>26} {'in the models':>26}")
print(f"{'four single-type models (four passes)':44} {spread(rate['singles']):>26} {spread(infer['singles']):>26}")
print(f"{'one multi-head model (one pass)':44} {spread(rate['heads']):>26} {spread(infer['heads']):>26}")
ratios = sorted(h / s for h, s in zip(rate["heads"], rate["singles"]))
print(f"multi-head / single-type, text tokens/s: {statistics.median(ratios):.2f}x "
      f"(run by run {', '.join(f'{x:.2f}' for x in ratios)}); in the models alone "
      f"{statistics.median(infer['heads']) / statistics.median(infer['singles']):.2f}x")
m1 = spans("four_singles_1.jsonl", "pubmine")
m2 = spans("four_heads_1.jsonl", "pubmine")
print(f"mentions: four models {len(m1)}, multi-head {len(m2)}; spans agreeing: {agree(m1, m2)}")
PY
