#!/usr/bin/env bash
# `make web`: the pages as static files in web/dist (type-checked first). `make dev` serves them.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/local/web-install.sh npm
cd web
npx tsc -b
npx vite build --logLevel warn
