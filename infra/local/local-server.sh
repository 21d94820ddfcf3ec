#!/usr/bin/env bash
# Sourced by the scripts that test against a running local server (fuzz.sh, web-test.sh):
#   start_local_server STATE_DIR PREFIX [VAR=value ...]
# starts target/debug/local-server on a free loopback port with its dev.env in STATE_DIR/api,
# stops it when the calling script exits, waits until it answers (the demo organization's
# history is written first: up to half a minute on a busy machine), and sources its dev.env.
start_local_server() {
  local state=$1 prefix=$2
  shift 2
  local port api_dir
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  api_dir="$state/api"
  rm -rf "$api_dir" && mkdir -p "$api_dir"
  env LOCAL_API_PORT="$port" BILLING_LOCAL_DIR="$PWD/$api_dir" LOCAL_PREFIX="$prefix" "$@" \
    target/debug/local-server >"$state/server.log" 2>&1 &
  LOCAL_SERVER_PID=$!
  trap 'kill "$LOCAL_SERVER_PID" 2>/dev/null || true; wait "$LOCAL_SERVER_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 360); do
    if [[ -f "$api_dir/dev.env" ]] && curl -fsS "http://127.0.0.1:$port/api/billing/config" >/dev/null 2>&1; then
      # shellcheck disable=SC1091
      source "$api_dir/dev.env"
      return 0
    fi
    if ! kill -0 "$LOCAL_SERVER_PID" 2>/dev/null; then
      tail -n 30 "$state/server.log" >&2
      echo "local server exited (log: $state/server.log)" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "local server did not answer within 3 minutes (log: $state/server.log)" >&2
  return 1
}
