#!/usr/bin/env bash
# Memory of `pubmine annotate` against the length of one passage: a document whose one passage
# is 1, 4 and 16 MB of real abstract text (the repository's PubMed samples, sentences repeated
# in a shuffled order), beside a reference run over the samples' ordinary abstracts, with the
# committed Disease and Chemical models. Peak RSS is GNU time's; the figure is the ratio of the
# 16 MB peak to the 1 MB peak (goal: at most 2). A passage is tokenized in pieces of 64 KiB and
# holds a few bytes a token, so the peak grows by the passage's tokens alone.
#   bench/huge_passage.sh [SIZES_MB...]    (default 1 4 16)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 4 16)
out=$PWD/bench/out/huge_passage
mkdir -p "$out"
ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)
export ORT_DYLIB_PATH PUBMINE_LOG=warn
cargo build --release --locked -q
bin=$PWD/target/release/pubmine
"$bin" ingest parse samples/pubmed/*.xml* >"$out/samples.jsonl" 2>/dev/null

# $1 MB of text in one passage of one document, or (with $2 = many) the same sentences as
# documents of about 1,500 characters, as abstracts are.
make_doc() {
  python3 - "$out/samples.jsonl" "$1" "${2:-one}" <<'EOF'
import json, random, re, sys
src, mb, many = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "many"
sentences = []
for line in open(src):
    doc = json.loads(line)
    for p in doc.get("passages", []):
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", p["text"]) if len(s) > 20]
rng = random.Random(7)
want, parts, n = int(mb * 1024 * 1024), [], 0
while n < want:
    s = rng.choice(sentences)
    parts.append(s)
    n += len(s.encode()) + 1
def doc(i, text):
    return json.dumps({"schema_version": 1, "id": f"pmid:{i}", "source": "pubmed", "title": "",
                       "passages": [{"kind": "abstract", "text": text}]})
if not many:
    print(doc(1, " ".join(parts)))
else:
    i, acc = 0, []
    for s in parts:
        acc.append(s)
        if sum(len(a) + 1 for a in acc) >= 1500:
            i += 1
            print(doc(i, " ".join(acc)))
            acc = []
    if acc:
        print(doc(i + 1, " ".join(acc)))
EOF
}

# annotate $1 (a JSON-lines file); prints "peak_MB seconds".
measure() {
  /usr/bin/time -f '%M %e' -o "$out/time" "$bin" annotate --input "$1" \
    --model models/ner-disease --model models/ner-chemical --threads 2 \
    --max-document-chars 200000000 >"$out/annotations.jsonl"
  read -r kb secs <"$out/time"
  echo "$((kb / 1024)) $secs"
}

printf '%-28s %10s %10s %12s\n' input peak_MB seconds mentions
read -r ref_mb ref_s < <(measure "$out/samples.jsonl")
printf '%-28s %10s %10s %12s\n' "samples ($(wc -l <"$out/samples.jsonl") abstracts)" "$ref_mb" "$ref_s" \
  "$(python3 -c 'import json,sys; print(sum(len(json.loads(l).get("mentions", [])) for l in open(sys.argv[1])))' "$out/annotations.jsonl")"
# The models' own working memory (ONNX Runtime's arenas) reaches its size on any input of full
# batches: the same first MB of text as ordinary abstracts is the reference for a long passage.
[ -f "$out/many_${sizes[0]}.jsonl" ] || make_doc "${sizes[0]}" many >"$out/many_${sizes[0]}.jsonl"
read -r p s < <(measure "$out/many_${sizes[0]}.jsonl")
printf '%-28s %10s %10s %12s\n' "${sizes[0]} MB as $(wc -l <"$out/many_${sizes[0]}.jsonl") abstracts" "$p" "$s" \
  "$(python3 -c 'import json,sys; print(sum(len(json.loads(l).get("mentions", [])) for l in open(sys.argv[1])))' "$out/annotations.jsonl")"
declare -A peak
for mb in "${sizes[@]}"; do
  [ -f "$out/doc_${mb}.jsonl" ] || make_doc "$mb" >"$out/doc_${mb}.jsonl"
  read -r p s < <(measure "$out/doc_${mb}.jsonl")
  peak[$mb]=$p
  printf '%-28s %10s %10s %12s\n' "one passage of $mb MB" "$p" "$s" \
    "$(python3 -c 'import json,sys; print(sum(len(json.loads(l).get("mentions", [])) for l in open(sys.argv[1])))' "$out/annotations.jsonl")"
done
first=${sizes[0]}
last=${sizes[${#sizes[@]}-1]}
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'peak of {sys.argv[3]} MB / peak of {sys.argv[4]} MB: {b/a:.2f} (goal: at most 2)')" \
  "${peak[$first]}" "${peak[$last]}" "$last" "$first"
