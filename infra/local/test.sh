#!/usr/bin/env bash
# `make test`: a private emulator stack on its own ports, every test, and the stack stopped
# again whatever happens. `--bench-only` runs the reservation benchmark instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--bench-only" ]; then
  exec bash infra/local/with-stack.sh .local/test cargo bench -p billing-tests --bench reserve
fi
exec bash infra/local/with-stack.sh .local/test cargo test --workspace --all-targets "$@"
