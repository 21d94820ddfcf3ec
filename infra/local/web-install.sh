#!/usr/bin/env bash
# What the web app and its browser tests need, installed on first use: Debian's Chromium (the
# browser tests drive it through Playwright's executablePath; Playwright never downloads one)
# and the npm packages pinned by web/package-lock.json, with npm's cache in .cache/npm.
#   web-install.sh          both
#   web-install.sh npm      the npm packages only (building the pages needs no browser)
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf 'web-install: %s\n' "$*" >&2; }

if [[ "${1:-}" != npm ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" -ne 0 ]]; then
    log "Chromium is missing; install Debian's package as root: apt-get install chromium"
    exit 1
  fi
  log "installing Debian's chromium ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# `npm ci` wipes node_modules; skip it while the installed tree matches the lockfile.
stamp=web/node_modules/.lock-sha256
want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "npm ci (web/package-lock.json) ..."
  (cd web && npm ci --cache ../.cache/npm --prefer-offline --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi
