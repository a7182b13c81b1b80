#!/usr/bin/env bash
# What the demos print once the samples are mined: the store's counts, the top entities and
# relation pairs (the dashboards, fresh as the store commits), and a search of the index.
#   scripts/demo-report.sh PUBMINE_BINARY INDEX_DIR     (DATABASE_URL names the database)
set -euo pipefail
bin=$1
index=$2

echo
echo "store: $(psql -Atq "$DATABASE_URL" -c "SELECT count(*) || ' documents, ' || (SELECT count(*) FROM mentions) || ' mentions, ' || (SELECT count(*) FROM relations) || ' relations in Postgres' FROM documents")"
psql -q "$DATABASE_URL" -c "SELECT type, name, entity, spellings, documents, mentions FROM top_entities ORDER BY documents DESC, mentions DESC LIMIT 6"
psql -q "$DATABASE_URL" -c "SELECT type, subject_normalized AS subject, object_normalized AS object, relations, documents FROM relation_pairs ORDER BY relations DESC LIMIT 5"
echo "index: pubmine search 'colorectal cancer' --limit 2 --facets --index $index"
"$bin" search "colorectal cancer" --index "$index" --limit 2 --facets --log warn
echo
echo "Try: pubmine serve --index $index --database-url $DATABASE_URL   (then GET /search?query=aspirin)"
