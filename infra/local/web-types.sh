#!/usr/bin/env bash
# `make web-types`: regenerates web/src/api/schema.d.ts from the document the local server
# serves (the same one `make test` checks the file against), without any emulator: the
# document is built from the code alone (`cargo run -p billing --example openapi`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/local/web-install.sh npm
mkdir -p .local
cargo run --quiet -p billing --example openapi >.local/openapi.json
(cd web && npx openapi-typescript ../.local/openapi.json -o src/api/schema.d.ts)
