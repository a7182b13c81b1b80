#!/usr/bin/env bash
# End to end in one process: documents/s of `pubmine run` (parse, annotate, store in Postgres,
# index) beside the bare annotator (`pubmine annotate --input` on the same documents, parsed
# beforehand) with the same demo models and threads, in the same script; and the peak RSS of
# each (GNU time). Goal: `pubmine run` at least 0.9 of the bare annotator.
#   bench/run.sh [ARTICLES] [THREADS]     (default 3000 generated abstracts, 2 threads)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
articles=${1:-3000}
threads=${2:-2}
out=$PWD/bench/out
mkdir -p "$out"
"$PUBMINE_ROOT/scripts/postgres.sh"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH PUBMINE_LOG=warn
xml=$out/abstracts_${articles}.xml
[ -f "$xml" ] || python3 bench/gen_medline.py --articles "$articles" "$xml" >&2
cargo build --release --locked -q
bin=target/release/pubmine
models=(--model models/demo-ner --model models/demo-ner-gene --re-model models/demo-re-gene-disease)
"$bin" ingest parse "$xml" >"$out/run_docs.jsonl"
docs=$(wc -l <"$out/run_docs.jsonl")
timed() { /usr/bin/time -f '%e %M' -o "$out/time.txt" "$@"; read -r secs kb <"$out/time.txt"; }

timed "$bin" annotate --input "$out/run_docs.jsonl" "${models[@]}" --threads "$threads" >/dev/null
bare_s=$secs bare_kb=$kb

db=pubmine_bench_run
psql -q "$PUBMINE_PG_ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
rm -rf "$out/run_index" "$out/run_dead.jsonl"
# The run's RSS every second (as it goes, to see whether it levels off), beside GNU time's peak.
: >"$out/run_rss.txt"
(
  while sleep 1; do
    pid=$(pgrep -n -x pubmine) || continue
    awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null >>"$out/run_rss.txt" || true
  done
) &
sampler=$!
timed "$bin" run "$xml" "${models[@]}" --threads "$threads" --database-url "$PUBMINE_PG_ADMIN_URL/$db" \
  --index "$out/run_index" --dead-letters "$out/run_dead.jsonl" --json --no-progress >"$out/run_summary.json"
run_s=$secs run_kb=$kb
kill "$sampler"
python3 - "$docs" "$bare_s" "$bare_kb" "$run_s" "$run_kb" "$out/run_summary.json" "$out/run_rss.txt" <<'PY'
import json, sys
docs, bare_s, bare_kb, run_s, run_kb, summary, rss_file = sys.argv[1:]
docs, bare_s, run_s = int(docs), float(bare_s), float(run_s)
s = json.load(open(summary))
print(f"{docs} documents; pubmine run stored {s['stored']} and indexed {s['indexed']}")
print(f"{'':38} {'docs/s':>8} {'seconds':>8} {'peak RSS MB':>12} {'ratio':>6}")
print(f"{'pubmine annotate --input (bare)':38} {docs / bare_s:8.1f} {bare_s:8.2f} {int(bare_kb) / 1024:12.0f} {1.0:6.2f}")
print(f"{'pubmine run (parse+annotate+store+index)':38} {docs / run_s:8.1f} {run_s:8.2f} {int(run_kb) / 1024:12.0f} {bare_s / run_s:6.2f}")
rss = [int(l) / 1024 for l in open(rss_file) if l.strip()]
if rss:
    at = lambda f: rss[min(len(rss) - 1, int(f * len(rss)))]
    print("pubmine run RSS MB at 10/25/50/75/90% of the run: " + " ".join(f"{at(f):.0f}" for f in (0.1, 0.25, 0.5, 0.75, 0.9)))
PY
