#!/usr/bin/env bash
# Parse throughput: pubmine's MEDLINE parser beside the lxml reference (bench/lxml_reference.py)
# on the same generated file, in one script, with the ratio to bare lxml iterparse. pubmine runs
# on one thread (like for like with lxml) and on two (what `pubmine ingest` uses on this machine).
#   bench/parse.sh [ARTICLES]     (default 30000: a file the size of a real baseline file)
set -euo pipefail
cd "$(dirname "$0")/.."
articles=${1:-30000}
out=$PWD/bench/out
mkdir -p "$out"
file="$out/medline_${articles}.xml"
if [ ! -f "$file" ]; then
  python3 bench/gen_medline.py --articles "$articles" "$file" >&2
fi
python3 -c 'import lxml' 2>/dev/null || pip install -q -r bench/requirements.txt
cargo bench -q -p pubmine-ingest --bench parse_throughput -- "$file" 3 >"$out/rust.jsonl"
python3 bench/lxml_reference.py --mode both --repeat 3 "$file" >"$out/lxml.jsonl"
python3 - "$out/rust.jsonl" "$out/lxml.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
bare = next(r for r in rows if r["mode"] == "bare")
extract = next(r for r in rows if r["mode"] == "extract")
print(f"file: {bare['bytes'] / 1e6:.1f} MB of XML, {bare['articles']} articles")
print(f"{'run':34} {'articles/s':>11} {'MB/s':>7} {'x bare lxml':>12}")
for r in rows:
    parser = "pubmine" if r["parser"].startswith("pubmine") else "lxml " + r["parser"].split()[1]
    name = f"{parser} {r['mode']}"
    print(f"{name:34} {r['articles_per_s']:11.0f} {r['mb_per_s']:7.1f} {r['mb_per_s'] / bare['mb_per_s']:12.2f}")
print(f"reference: {bare['parser']}")
PY
