#!/usr/bin/env bash
# `make dev`: emulators + local API server in the foreground. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash infra/local/with-stack.sh .local/dev cargo run --quiet -p local-server
