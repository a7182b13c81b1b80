#!/usr/bin/env bash
# Parse throughput: pubmine's MEDLINE parser beside the lxml reference (bench/lxml_reference.py)
# on the same generated file, in one script, with the ratio. Single-threaded on both sides.
#   bench/parse.sh [ARTICLES]     (default 30000: a file the size of a real baseline file)
set -euo pipefail
cd "$(dirname "$0")/.."
articles=${1:-30000}
out=bench/out
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
ref = {r["mode"]: r for r in rows if r.get("parser", "").startswith("lxml") or r["mode"] in ("bare", "extract")}
bare = next(r for r in rows if r["mode"] == "bare")
extract = next(r for r in rows if r["mode"] == "extract")
print(f"file: {bare['bytes'] / 1e6:.1f} MB of XML, {bare['articles']} articles")
print(f"{'run':38} {'articles/s':>12} {'MB/s':>8} {'x bare lxml':>12}")
for r in rows:
    name = f"{r.get('parser', 'lxml')} {r['mode']}"
    print(f"{name:38} {r['articles_per_s']:12.0f} {r['mb_per_s']:8.1f} {r['mb_per_s'] / bare['mb_per_s']:12.2f}")
PY
