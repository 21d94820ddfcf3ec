#!/usr/bin/env bash
# `make test`: a private emulator stack on its own ports, every test, and the stack stopped
# again whatever happens; then schemathesis against the local server (infra/local/fuzz.sh),
# then the web app's checks and browser tests (infra/local/web-test.sh).
# Ends with one line counting every test of every target and the fuzzer's examples.
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
counts=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed", p, f }' "$log")
# A filtered run (arguments for cargo test) skips the fuzzer and the browser.
fuzz="schemathesis: not run"
web="web: not run"
if [ "$#" -eq 0 ]; then
  rm -f .local/fuzz-summary .local/web-summary
  bash infra/local/fuzz.sh || status=$?
  fuzz=$(cat .local/fuzz-summary 2>/dev/null || echo "schemathesis: did not run to the end")
  bash infra/local/web-test.sh || status=$?
  web=$(cat .local/web-summary 2>/dev/null || echo "web: did not run to the end")
fi
# The web app's unit and browser tests count with the Rust tests in the closing line.
read -r web_pass web_fail < <(sed -nE 's/^web: ([0-9]+) unit tests passed; ([0-9]+) browser tests passed, ([0-9]+) failed$/\1 \2 \3/p' \
  .local/web-summary 2>/dev/null | awk '{ print $1 + $2, $3 }') || true
if [[ -n "${web_pass:-}" ]]; then
  counts=$(awk -v c="$counts" -v p="$web_pass" -v f="$web_fail" 'BEGIN { split(c, a, /[ ,]+/); printf "%d passed, %d failed", a[1] + p, a[3] + f }')
fi
echo "$counts; $fuzz; $web" | tee .local/test-summary
exit "$status"
