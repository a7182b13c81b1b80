#!/usr/bin/env bash
# Memory of `pubmine run` against the size of its input: a run over one generated file of
# ARTICLES articles, and a run over FACTOR such files (distinct records: FACTOR times the input),
# with the demo NER model, each into a fresh database and index. RSS is sampled every second (to
# see whether it levels off) beside GNU time's peak; the ratio of the peaks is the figure (flat
# memory: about 1, whatever the input).
#   bench/rss.sh [ARTICLES] [FACTOR] [THREADS]    (default 30000, 10, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
articles=${1:-30000}
factor=${2:-10}
threads=${3:-2}
out=$PWD/bench/out/rss_${articles}
mkdir -p "$out/input"
"$PUBMINE_ROOT/scripts/postgres.sh"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH PUBMINE_LOG=warn
# Part k: its own seed and its own PMID range (distinct records), written whole or not at all.
gen() {
  local f="$out/input/part$1.xml"
  python3 bench/gen_medline.py --articles "$articles" --seed "$1" \
    --first-pmid $((30000000 + $1 * articles * 3)) "$f.tmp" >/dev/null && mv "$f.tmp" "$f"
}
for k in $(seq 0 $((factor - 1))); do
  [ -f "$out/input/part$k.xml" ] || gen "$k" &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
done
wait
mkdir -p "$out/small" && ln -sf "$out/input/part0.xml" "$out/small/part0.xml"
cargo build --release --locked -q
bin=$PWD/target/release/pubmine

# pubmine run over $1 (a directory); sets secs, kb, and rss (the samples, MB).
measure() {
  local name=$1 input=$2 db=pubmine_bench_rss
  psql -q "$PUBMINE_PG_ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  rm -rf "$out/index" "$out/dead.jsonl"
  : >"$out/$name.rss"
  (
    while sleep 1; do
      pid=$(pgrep -n -x pubmine) || continue
      # VmRSS, and the two parts of it: anonymous memory, and file pages (the index's
      # memory-mapped segments among them).
      awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s ", $2} END {print ""}' "/proc/$pid/status" \
        2>/dev/null >>"$out/$name.rss" || true
    done
  ) &
  local sampler=$!
  /usr/bin/time -f '%e %M' -o "$out/$name.time" "$bin" run "$input" --model models/demo-ner \
    --threads "$threads" --database-url "$PUBMINE_PG_ADMIN_URL/$db" --index "$out/index" \
    --dead-letters "$out/dead.jsonl" --json --no-progress >"$out/$name.json"
  kill "$sampler"
}
measure small "$out/small"
measure large "$out/input"
python3 - "$out" "$articles" "$factor" <<'PY'
import json, sys
out, articles, factor = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"pubmine run, demo NER model, generated articles ({articles} per file)")
print(f"{'input':>22} {'documents':>10} {'seconds':>8} {'docs/s':>7} {'peak RSS MB':>12}  RSS MB at 10/25/50/75/90% of the run")
peaks, parts = {}, {}
for name, files in (("small", 1), ("large", factor)):
    secs, kb = open(f"{out}/{name}.time").read().split()
    s = json.load(open(f"{out}/{name}.json"))
    rows = [[int(x) / 1024 for x in l.split()] for l in open(f"{out}/{name}.rss") if len(l.split()) == 3]
    rss = [r[0] for r in rows]
    parts[name] = (max((r[1] for r in rows), default=0), max((r[2] for r in rows), default=0))
    at = lambda f: rss[min(len(rss) - 1, int(f * len(rss)))] if rss else 0
    peaks[name] = int(kb) / 1024
    label = f"{files} file{'s' if files > 1 else ''}, {files * articles} art."
    print(f"{label:>22} {s['stored']:10} {float(secs):8.1f} {s['stored'] / float(secs):7.1f} {peaks[name]:12.0f}  "
          + " ".join(f"{at(f):.0f}" for f in (0.1, 0.25, 0.5, 0.75, 0.9)))
print(f"peak RSS, {factor}x the input: {peaks['large'] / peaks['small']:.2f}x")
for name in ("small", "large"):
    print(f"{name}: peak anonymous {parts[name][0]:.0f} MB, peak file pages {parts[name][1]:.0f} MB")
PY
