#!/usr/bin/env bash
# The web app's checks, the last step of `make test` (also `make web-test`), against a local
# server on a private emulator stack serving the production build on the API's origin:
#   1. the generated API types (web/src/api/schema.d.ts) equal what the served OpenAPI
#      document generates now: a stale file fails;
#   2. Redocly's recommended rules on the served document: 0 errors;
#   3. type check and production build; unit tests (vitest);
#   4. Playwright in Debian's Chromium (web/e2e): flows, roles, axe-core, screenshots at
#      1280 and 390 px, light and dark, written to .local/web/screenshots.
# Writes one line to .local/web-summary. Arguments go to `playwright test` (e.g. a file).
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.local/web

if [[ "${1:-}" != --inside ]]; then
  bash infra/local/web-install.sh
  cargo build --quiet -p local-server
  exec bash infra/local/with-stack.sh "$state/stack" bash infra/local/web-test.sh --inside "$@"
fi
shift

rm -rf "$state/screenshots"
# shellcheck source=infra/local/local-server.sh
source infra/local/local-server.sh
start_local_server "$state" web WEB_DIST="$PWD/web/dist"
export BILLING_URL DEV_JWT_SECRET DEV_JWT_ISSUER DEV_JWT_AUDIENCE STRIPE_WEBHOOK_SECRET

echo "== generated API types are fresh"
curl -fsS "$BILLING_URL/api/billing/openapi.json" -o "$state/openapi.json"
(cd web && npx openapi-typescript "../$state/openapi.json" -o "../$state/schema.d.ts" >/dev/null)
if ! diff -u web/src/api/schema.d.ts "$state/schema.d.ts" >"$state/schema.diff"; then
  head -n 40 "$state/schema.diff" >&2
  echo "web-test: web/src/api/schema.d.ts is stale: run \`make web-types\` and commit it" >&2
  exit 1
fi

echo "== Redocly recommended rules on the served document"
(cd web && npx redocly lint "../$state/openapi.json" --extends recommended --format stylish)

echo "== type check, build, unit tests"
bash infra/local/web-build.sh
(cd web && npx vitest run --reporter=dot) 2>&1 | tee "$state/unit.log"

echo "== browser tests (Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
status=0
(cd web && CI="${CI:-}" npx playwright test "$@") 2>&1 | tee "$state/e2e.log" || status=$?
unit=$(sed 's/\x1b\[[0-9;]*m//g' "$state/unit.log" | awk '/Tests +[0-9]+ passed/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed/) print $i }' | tail -n 1)
e2e_pass=$(sed 's/\x1b\[[0-9;]*m//g' "$state/e2e.log" | awk '/^ *[0-9]+ passed/ { print $1 }' | tail -n 1)
e2e_fail=$(sed 's/\x1b\[[0-9;]*m//g' "$state/e2e.log" | awk '/^ *[0-9]+ failed/ { print $1 }' | tail -n 1)
echo "web: ${unit:-0} unit tests passed; ${e2e_pass:-0} browser tests passed, ${e2e_fail:-0} failed" | tee .local/web-summary
exit "$status"
