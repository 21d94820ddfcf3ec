#!/usr/bin/env bash
# `make test`: a private emulator stack on its own ports, every test, and the stack stopped
# again whatever happens. Ends with one line counting every test of every target.
# `--bench-only` runs the reservation and invoice-generation benchmarks instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--bench-only" ]; then
  exec bash infra/local/with-stack.sh .local/test cargo bench -p billing-tests --bench reserve --bench invoice
fi
mkdir -p .local
log=.local/test-output.log
status=0
bash infra/local/with-stack.sh .local/test cargo test --workspace --all-targets "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log" | tee .local/test-summary
exit "$status"
