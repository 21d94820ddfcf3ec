#!/usr/bin/env bash
# Lints the served OpenAPI document with Redocly's recommended rules, as the web app's code
# generator will read it. The document is printed by `billing`'s `openapi` example, the very
# `document()` that `GET /api/billing/openapi.json` serves, so no server or emulator is needed.
# Needs the web app's dev dependencies (`npm ci` in web/), which pin @redocly/cli.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
redocly="$root/web/node_modules/.bin/redocly"
if [[ ! -x "$redocly" ]]; then
    echo "openapi-lint: $redocly is missing; run 'npm ci' in web/ first" >&2
    exit 1
fi
out="$root/.local/openapi"
mkdir -p "$out"
cargo run -q -p billing --example openapi > "$out/openapi.json"
"$redocly" lint "$out/openapi.json" --extends recommended "$@"
