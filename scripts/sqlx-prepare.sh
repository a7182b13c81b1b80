#!/usr/bin/env bash
# Regenerates .sqlx/ (the query metadata that lets `sqlx::query!` compile offline) from the
# migrations, against a scratch database on the local Postgres. With --check, fails when the
# committed .sqlx/ differs from what the current queries and migrations give (the check CI runs).
# Needs only psql and cargo: the sqlx macros write the metadata themselves when SQLX_OFFLINE_DIR
# is set during an online build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGOPTIONS="--client-min-messages=warning"
PGURL_BASE=${PUBMINE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432}
DB=pubmine_sqlx_prepare
psql -q "$PGURL_BASE/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
for f in migrations/*.sql; do
  psql -q -v ON_ERROR_STOP=1 "$PGURL_BASE/$DB" -f "$f" >/dev/null
done
out=.sqlx
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
fi
rm -rf "${out:?}"/query-*.json
mkdir -p "$out"
# Only the crates with queries need their macros expanded again.
cargo clean -q -p pubmine-store
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$(realpath "$out")" DATABASE_URL="$PGURL_BASE/$DB" \
  cargo check -q -p pubmine-store --all-targets
psql -q "$PGURL_BASE/postgres" -c "DROP DATABASE IF EXISTS $DB"
if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out" .sqlx >/dev/null 2>&1; then
    echo "error: .sqlx/ is out of date with the queries or migrations; run scripts/sqlx-prepare.sh and commit .sqlx/" >&2
    diff -r "$out" .sqlx >&2 || true
    exit 1
  fi
  echo ".sqlx/ is up to date"
fi
