#!/usr/bin/env bash
# `make web`: the pages as static files in web/dist (type-checked first). `make dev` serves them.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/local/web-install.sh npm
cd web
npx tsc -b
npx vite build --logLevel warn
# Compressed copies for the local server (as CloudFront compresses in production); never uploaded.
find dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) -exec gzip -9 -k -f {} +
