#!/usr/bin/env bash
# Parse throughput: pubmine's MEDLINE parser beside the lxml reference (bench/lxml_reference.py)
# on the same files, in one script, with the ratio to bare lxml iterparse. pubmine runs on one
# thread (like for like with lxml) and on two (what `pubmine ingest` uses on this machine).
# Two files: one generated (gen_medline.py: baseline-shaped, made-up content) and one of real
# records (real_medline.py: the records of ../shared/samples/pubmed repeated, when it is there).
# Then each gzipped: pubmine parsing the .xml.gz beside `gzip -dc` alone on the same file.
#   bench/parse.sh [ARTICLES]     (default 30000: a file the size of a real baseline file)
set -euo pipefail
cd "$(dirname "$0")/.."
articles=${1:-30000}
out=$PWD/bench/out
mkdir -p "$out"
files=("$out/medline_${articles}.xml")
[ -f "${files[0]}" ] || python3 bench/gen_medline.py --articles "$articles" "${files[0]}" >&2
if [ -d ../shared/samples/pubmed ]; then
  # Real records are larger (book articles, long reference lists): a third as many records
  # make a file of about the same size.
  real="$out/real_$((articles / 3)).xml"
  [ -f "$real" ] || python3 bench/real_medline.py --articles $((articles / 3)) "$real"
  files+=("$real")
else
  echo "../shared/samples/pubmed not found: the generated file only" >&2
fi
python3 -c 'import lxml' 2>/dev/null || pip install -q -r bench/requirements.txt
cargo build -q --release -p pubmine-ingest --bench parse_throughput

# Best of 3 wall-clock seconds of a command.
best_of_3() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
times = []
for _ in range(3):
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(min(times))
PY
}

for file in "${files[@]}"; do
  base=$(basename "$file" .xml)
  cargo bench -q -p pubmine-ingest --bench parse_throughput -- "$file" 3 >"$out/$base.rust.jsonl"
  python3 bench/lxml_reference.py --mode both --repeat 3 "$file" >"$out/$base.lxml.jsonl"
  [ -f "$file.gz" ] || gzip -6 -k -c "$file" >"$file.gz"
  cargo bench -q -p pubmine-ingest --bench parse_throughput -- "$file.gz" 3 parse >"$out/$base.gz.jsonl"
  gunzip_s=$(best_of_3 gzip -dc "$file.gz")
  python3 - "$out/$base.rust.jsonl" "$out/$base.lxml.jsonl" "$out/$base.gz.jsonl" "$gunzip_s" "$file" <<'PY'
import json, os, sys
rows = [json.loads(l) for f in sys.argv[1:3] for l in open(f) if l.strip()]
gz = json.loads(open(sys.argv[3]).read())
gunzip_s, path = float(sys.argv[4]), sys.argv[5]
bare = next(r for r in rows if r["mode"] == "bare")
print(f"\n{os.path.basename(path)}: {bare['bytes'] / 1e6:.1f} MB of XML, {bare['articles']} articles")
print(f"{'run':34} {'articles/s':>11} {'MB/s':>7} {'x bare lxml':>12}")
for r in rows:
    parser = "pubmine" if r["parser"].startswith("pubmine") else "lxml " + r["parser"].split()[1]
    name = f"{parser} {r['mode']}"
    print(f"{name:34} {r['articles_per_s']:11.0f} {r['mb_per_s']:7.1f} {r['mb_per_s'] / bare['mb_per_s']:12.2f}")
gunzip_mb = gz["bytes"] / 1e6 / gunzip_s
gz_mb = os.path.getsize(path + ".gz") / 1e6
print(f"{os.path.basename(path)}.gz ({gz_mb:.1f} MB): gzip -dc alone {gunzip_mb:.1f} MB/s of XML; "
      f"pubmine parse of the .gz {gz['mb_per_s']:.1f} MB/s = {gz['mb_per_s'] / gunzip_mb:.2f}x gzip -dc")
print(f"reference: {bare['parser']}")
PY
done
