#!/usr/bin/env bash
# with-stack.sh STATE_DIR COMMAND...: start an emulator stack in STATE_DIR, run COMMAND with
# its endpoints in the environment, and stop the stack however COMMAND ends (Ctrl-C too).
set -euo pipefail
cd "$(dirname "$0")/../.."

state=$1
shift
bash infra/local/stack.sh stop "$state" >/dev/null 2>&1 || true
bash infra/local/stack.sh start "$state"
trap 'bash infra/local/stack.sh stop "$state"' EXIT
# shellcheck disable=SC1091
source "$state/stack.env"
"$@"
