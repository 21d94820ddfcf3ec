#!/usr/bin/env bash
# `make fuzz`, and the last step of `make test`: schemathesis (pinned, installed into
# .cache/venv-fuzz) against the local server, driven by the OpenAPI document the server itself
# serves. Checks: no 5xx, every status documented, every body matching its schema.
# Tokens: an owner of the org `demo` for user routes, the workflow engine for internal ones.
#   FUZZ_EXAMPLES  examples per operation and phase (default 50)
#   FUZZ_SEED      the random seed (default fixed, so CI is repeatable; any integer explores anew)
# Writes the one-line result to .local/fuzz-summary and the full output to .local/fuzz/output.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.local/fuzz

if [[ "${1:-}" != --inside ]]; then
  bash infra/local/stack.sh install fuzz
  cargo build --quiet -p local-server
  exec bash infra/local/with-stack.sh "$state" bash infra/local/fuzz.sh --inside
fi

# shellcheck source=infra/local/local-server.sh
source infra/local/local-server.sh
start_local_server "$state" fuzz

status=0
.cache/venv-fuzz/bin/schemathesis --config-file tests/fuzz/schemathesis.toml run \
  "$BILLING_URL/api/billing/openapi.json" \
  --max-examples "${FUZZ_EXAMPLES:-50}" --seed "${FUZZ_SEED:-20261201}" --no-color 2>&1 |
  tee "$state/output.log" || status=$?
result=$(grep -A1 '^Test cases:' "$state/output.log" | tail -n 1 | sed 's/^ *//')
echo "schemathesis: ${result:-no result} (seed ${FUZZ_SEED:-20261201})" | tee .local/fuzz-summary
exit "$status"
