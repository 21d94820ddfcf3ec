#!/usr/bin/env bash
# `make dev`: emulators + local API server in the foreground, serving the pages (web/dist) on
# the API's origin. The pages are built on first use and again whenever their sources changed.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -f web/dist/index.html ]] ||
  [[ -n "$(find web/src web/index.html web/package-lock.json -newer web/dist/index.html -print -quit)" ]]; then
  bash infra/local/web-build.sh
fi
export WEB_DIST="$PWD/web/dist"
exec bash infra/local/with-stack.sh .local/dev cargo run --quiet -p local-server
