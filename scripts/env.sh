# Shared settings of the project's scripts; sourced, not run. Every value can be overridden from
# the environment.
PUBMINE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Tools the scripts build or unpack live outside the clone, so a fresh clone reuses them.
PUBMINE_TOOLS=${PUBMINE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/pubmine}
ORT_VERSION=${ORT_VERSION:-1.31.0}
TANSU_VERSION=${TANSU_VERSION:-0.6.0}
TANSU_BIN=${TANSU_BIN:-$PUBMINE_TOOLS/tansu-$TANSU_VERSION/bin/tansu}
# The broker the scripts start listens here (9092 is left to a broker of the user's own).
PUBMINE_BROKER_PORT=${PUBMINE_BROKER_PORT:-19092}
PUBMINE_BROKER_DIR=${PUBMINE_BROKER_DIR:-$PUBMINE_TOOLS/run/broker-$PUBMINE_BROKER_PORT}
PUBMINE_PG_ADMIN_URL=${PUBMINE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432}
export PUBMINE_ROOT PUBMINE_TOOLS TANSU_BIN PUBMINE_BROKER_PORT PUBMINE_PG_ADMIN_URL
log() { printf '[pubmine] %s\n' "$*" >&2; }
