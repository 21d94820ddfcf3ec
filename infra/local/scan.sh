#!/usr/bin/env bash
# `make scan`: checkov's CloudFormation checks on template.yaml, with the checks that do not
# apply to this stack skipped for the reasons given in infra/checkov.yaml. checkov is pinned
# and installed into .cache/venv-scan on first use (PyPI). Not part of `make test`: the
# template's own lint (`make validate`) runs in CI; this is the outside scanner's view.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECKOV_PIN="checkov==3.3.30"
venv=.cache/venv-scan
if ! "$venv/bin/checkov" --version >/dev/null 2>&1; then
  echo "scan: installing $CHECKOV_PIN into $venv (PyPI) ..."
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$CHECKOV_PIN"
fi
"$venv/bin/checkov" --config-file infra/checkov.yaml -f template.yaml --quiet
