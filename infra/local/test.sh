#!/usr/bin/env bash
# `make test`: a private emulator stack on its own ports, every test, and the stack stopped
# again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."

state=.local/test
bash infra/local/stack.sh stop "$state" >/dev/null 2>&1 || true
bash infra/local/stack.sh start "$state"
trap 'bash infra/local/stack.sh stop "$state"' EXIT
# shellcheck disable=SC1091
source "$state/stack.env"
if [ "${1:-}" = "--bench-only" ]; then
  cargo bench -p billing-tests --bench reserve
else
  cargo test --workspace --all-targets "$@"
fi
