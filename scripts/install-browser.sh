#!/usr/bin/env bash
# Installs what the page's browser test (tests/browser/page.mjs) needs: Debian's chromium and
# the test's npm packages (playwright-core, which drives a browser it does not download). Quiet
# when both are there already; prints the chromium path.
set -euo pipefail
source "$(dirname "$0")/env.sh"
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  log "installing chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
    log "apt-get install failed; updating the package lists and trying again"
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
  fi
fi
test -x "$chromium" || { log "no $chromium after installing chromium"; exit 1; }
dir="$PUBMINE_ROOT/tests/browser"
command -v npm >/dev/null || { log "npm is missing: the browser test needs node 20 or later and npm"; exit 1; }
if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
  log "installing the npm packages of $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  # The check above compares times: leave node_modules newer than the lock, whatever npm did.
  touch "$dir/node_modules"
fi
echo "$chromium"
