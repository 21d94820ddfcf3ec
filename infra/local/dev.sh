#!/usr/bin/env bash
# `make dev`: emulators + local API server in the foreground. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."

state=.local/dev
bash infra/local/stack.sh stop "$state" >/dev/null 2>&1 || true
bash infra/local/stack.sh start "$state"
trap 'bash infra/local/stack.sh stop "$state"' EXIT
# shellcheck disable=SC1091
source "$state/stack.env"
cargo run --quiet -p local-server
