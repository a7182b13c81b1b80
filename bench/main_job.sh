#!/usr/bin/env bash
# The main job end to end, before and after one encoder pass for every entity type: `pubmine run`
# (parse, annotate, relations, store in Postgres, index) over generated abstracts with the real
# models, the four single-type NER models (models/ner-disease, -chemical, -species, -gene: four
# encoder passes) against the one multi-head model (models/ner-multi: one pass), the relation
# models (models/re-cdr, models/re-gad) in both. Each run into a fresh database and index, the two
# alternated REPEATS times; documents/s and GNU time's peak RSS, median and range.
#   bench/main_job.sh [ARTICLES] [REPEATS] [THREADS]     (default 2000 generated abstracts, 3, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
articles=${1:-2000}
repeats=${2:-3}
threads=${3:-2}
out=$PWD/bench/out/main_job
mkdir -p "$out"
"$PUBMINE_ROOT/scripts/postgres.sh"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH PUBMINE_LOG=warn
xml=$out/abstracts_${articles}.xml
[ -f "$xml" ] || python3 bench/gen_medline.py --articles "$articles" "$xml" >&2
cargo build --release --locked -q
bin=target/release/pubmine
relations=(--re-model models/re-cdr --re-model models/re-gad)
singles=(--model models/ner-disease --model models/ner-chemical --model models/ner-species --model models/ner-gene)
heads=(--model models/ner-multi)
db=pubmine_bench_main_job
run() { # NAME REPEAT MODEL-ARGS...
  local name=$1 r=$2
  shift 2
  psql -q "$PUBMINE_PG_ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  rm -rf "$out/index" "$out/dead.jsonl"
  /usr/bin/time -f '%e %M' -o "$out/${name}_$r.time" "$bin" run "$xml" "$@" "${relations[@]}" \
    --threads "$threads" --database-url "$PUBMINE_PG_ADMIN_URL/$db" --index "$out/index" \
    --dead-letters "$out/dead.jsonl" --json --no-progress >"$out/${name}_$r.json"
  psql -qAt "$PUBMINE_PG_ADMIN_URL/$db" -c \
    "SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM relations)" >"$out/${name}_$r.rows"
}
for r in $(seq "$repeats"); do
  run singles "$r" "${singles[@]}"
  run heads "$r" "${heads[@]}"
done
psql -q "$PUBMINE_PG_ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
python3 - "$out" "$repeats" "$threads" <<'PY'
import json, statistics, sys
out, repeats, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for name in ("singles", "heads"):
    rows[name] = []
    for r in range(1, repeats + 1):
        secs, kb = open(f"{out}/{name}_{r}.time").read().split()[-2:]
        s = json.load(open(f"{out}/{name}_{r}.json"))
        mentions, relations = open(f"{out}/{name}_{r}.rows").read().strip().split("|")
        rows[name].append({"docs_s": s["stored"] / float(secs), "rss_mb": int(kb) / 1024, "stored": s["stored"],
                           "mentions": int(mentions), "relations": int(relations)})


def spread(xs, fmt):
    return f"{statistics.median(xs):{fmt}} ({min(xs):{fmt}} to {max(xs):{fmt}})"


first = rows["singles"][0]
print(f"pubmine run, {first['stored']} generated abstracts, real models with re-cdr and re-gad, {threads} threads, "
      f"{repeats} runs each alternated, median (range)")
print(f"{'NER models':40} {'documents/s':>24} {'peak RSS MB':>24} {'mentions':>9} {'relations':>9}")
for name, label in (("singles", "four single-type (four passes)"), ("heads", "one multi-head (one pass)")):
    v = rows[name]
    print(f"{label:40} {spread([x['docs_s'] for x in v], '.1f'):>24} {spread([x['rss_mb'] for x in v], '.0f'):>24} "
          f"{v[0]['mentions']:9} {v[0]['relations']:9}")
ratios = sorted(h["docs_s"] / s["docs_s"] for h, s in zip(rows["heads"], rows["singles"]))
print(f"multi-head / single-type documents/s: {statistics.median(ratios):.2f}x (run by run "
      f"{', '.join(f'{x:.2f}' for x in ratios)}); peak RSS "
      f"{statistics.median([x['rss_mb'] for x in rows['heads']]) / statistics.median([x['rss_mb'] for x in rows['singles']]):.2f}x")
PY
