#!/usr/bin/env bash
# `make web-bench`: what the billing page costs a visitor, measured against a running
# `make dev` (or any local server: BILLING_URL, and its dev.env for the sign-in):
#   1. first load of /billing for the demo owner in Debian's Chromium: JavaScript and CSS
#      (raw and gzip), API requests and the deepest request chain (web/bench/first-load.mjs);
#   2. Lighthouse 12 (npm lighthouse@12.2.3, fetched into .cache/npm on first use) on the
#      production build, mobile (its default throttling) and desktop presets.
# Prints Markdown; the full Lighthouse reports go to .local/web/lighthouse/.
set -euo pipefail
cd "$(dirname "$0")/../.."
env_file=${DEV_ENV:-.local/dev/dev.env}
if [[ -z "${BILLING_URL:-}" ]]; then
  [[ -f "$env_file" ]] || { echo "web-bench: start \`make dev\` first (no $env_file)" >&2; exit 1; }
  # shellcheck disable=SC1090
  source "$env_file"
fi
export BILLING_URL
bash infra/local/web-install.sh
(cd web && node bench/first-load.mjs)
out=.local/web/lighthouse
mkdir -p "$out"
echo
echo "| Lighthouse 12.2.3, /billing (demo owner) | performance | accessibility | best practices | FCP | LCP | TBT | CLS |"
echo "|---|---|---|---|---|---|---|---|"
for preset in mobile desktop; do
  extra=()
  [[ $preset == desktop ]] && extra=(--preset=desktop)
  (cd web && CHROME_PATH=${CHROMIUM_PATH:-/usr/bin/chromium} npx --yes --cache ../.cache/npm lighthouse@12.2.3 \
    "$BILLING_URL/_local/sign-in?org=demo&role=owner" "${extra[@]}" --quiet \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking" \
    --only-categories=performance,accessibility,best-practices \
    --output=json --output-path="../$out/$preset.json" >/dev/null)
  python3 - "$out/$preset.json" "$preset" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
score = lambda c: round(report["categories"][c]["score"] * 100)
audit = lambda a: report["audits"][a]["displayValue"]
print(f"| {sys.argv[2]} | {score('performance')} | {score('accessibility')} | {score('best-practices')} | "
      f"{audit('first-contentful-paint')} | {audit('largest-contentful-paint')} | {audit('total-blocking-time')} | "
      f"{audit('cumulative-layout-shift')} |")
PY
done
