#!/usr/bin/env bash
# Makes sure a Postgres server answers on 127.0.0.1:5432, installing it from Debian's packages
# and starting it where none runs. Idempotent. The tests connect as `postgres` with trust auth on
# loopback, as on this project's machines; set PUBMINE_PG_ADMIN_URL for another server.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if pg_isready -q -d "$PUBMINE_PG_ADMIN_URL/postgres" 2>/dev/null; then exit 0; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing PostgreSQL from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -q "pubmine: trust loopback" "$hba"; then
  # Test machines only: passwordless access on loopback, as the tests expect.
  sed -i '1i host all all 127.0.0.1/32 trust # pubmine: trust loopback\nhost all all ::1/128 trust # pubmine: trust loopback' "$hba"
fi
log "starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
  || pg_ctlcluster "$version" main start
for _ in $(seq 1 50); do
  if pg_isready -q -d "$PUBMINE_PG_ADMIN_URL/postgres"; then exit 0; fi
  sleep 0.2
done
log "PostgreSQL does not answer at $PUBMINE_PG_ADMIN_URL"; exit 1
