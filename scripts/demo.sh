#!/usr/bin/env bash
# The main job on the bundled samples (samples/): starts a local broker, ingests PubMed and PMC
# files into the documents topic, and prints what was sent. It grows with each stage.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PUBMINE_ROOT"
brokers=$("$PUBMINE_ROOT/scripts/broker.sh" start)
cargo build --release --locked -q
bin="$PUBMINE_ROOT/target/release/pubmine"
log "ingesting samples/ into $brokers"
summary=$("$bin" ingest samples/ --brokers "$brokers" --no-progress)
echo "$summary"
python3 - "$summary" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
print(f"sent {s['documents']} documents and {s['deletions']} deletions from {s['files']} files "
      f"({s['bytes'] / 1e6:.2f} MB) in {s['seconds']:.2f} s; "
      f"{s['dead_lettered']} records dead-lettered, {s['failed_files']} files failed")
PY
