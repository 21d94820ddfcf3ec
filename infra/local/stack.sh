#!/usr/bin/env bash
# Local emulator stack for the billing project: DynamoDB Local, moto (SQS,
# EventBridge, EventBridge Scheduler) and stripe-mock, without Docker.
#
#   infra/local/stack.sh install [dynamodb|moto|stripe|tools ...]   (no args = all)
#   infra/local/stack.sh start  STATE_DIR    # installs the emulators if needed, starts them,
#                                            # writes STATE_DIR/stack.env
#   infra/local/stack.sh stop   STATE_DIR    # TERM, then KILL; safe to repeat
#   infra/local/stack.sh status STATE_DIR    # exit 0 if all run, 3 otherwise
#   infra/local/stack.sh tools-env           # prints `export PATH=...` for sam, cfn-lint,
#                                            # cargo lambda (+ zig) and stripe-mock
#
# Everything is installed under $REPO/.cache/ (pinned versions; a marker file per
# component holds what was installed, so a pin change reinstalls it).
# Every process listens on 127.0.0.1 only; `start` checks that with `ss` and
# refuses to go on otherwise. Several stacks can run side by side in different
# STATE_DIRs (each gets its own free ports).
#
# Environment knobs: PYTHON (default python3), STACK_START_TIMEOUT (default 60 s),
# STACK_STOP_TIMEOUT (default 5 s), STACK_DYNAMODB_XMX (default 1g).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd -P)
CACHE="$REPO/.cache"
MARKERS="$CACHE/markers"

# ---- pins -------------------------------------------------------------------
DYNAMODB_LOCAL_VERSION=3.1.0 # software.amazon.dynamodb:DynamoDBLocal (Maven Central)
MOTO_PINS=('moto[server]==5.2.5')
# aws-sam-cli 1.170.0 requires cfn-lint>=1.52.0,<1.59; cargo-lambda requires ziglang
# (cargo lambda finds zig through `python3 -m ziglang`, so the venv's bin/ must be on PATH).
TOOLS_PINS=('aws-sam-cli==1.170.0' 'cfn-lint==1.58.0' 'cargo-lambda==1.9.2' 'ziglang==0.17.1')
# The API fuzzer CI runs against the local server with the generated OpenAPI document.
FUZZ_PINS=('schemathesis==4.32.5')
STRIPE_MOCK_MODULE=github.com/stripe/stripe-mock
STRIPE_MOCK_VERSION=v0.197.0

PYTHON=${PYTHON:-python3}
START_TIMEOUT=${STACK_START_TIMEOUT:-60}
STOP_TIMEOUT=${STACK_STOP_TIMEOUT:-5}
DYNAMODB_XMX=${STACK_DYNAMODB_XMX:-1g}

DDB_SRC="$SCRIPT_DIR/dynamodb-local"
DDB_DIR="$CACHE/dynamodb-local"
MOTO_VENV="$CACHE/venv-moto"
TOOLS_VENV="$CACHE/venv-tools"
FUZZ_VENV="$CACHE/venv-fuzz"
STRIPE_MOCK_BIN="$CACHE/bin/stripe-mock"

SERVICES=(dynamodb moto stripe)

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
  printf 'stack: error: %s\n' "$*" >&2
  exit 1
}
# Runs CMD with its output in .cache/logs/install-NAME.log; shows the tail on failure.
run_logged() { # NAME CMD...
  local name=$1 logf
  shift
  mkdir -p "$CACHE/logs"
  logf="$CACHE/logs/install-$name.log"
  printf '==== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$logf"
  if ! "$@" >>"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    die "$name: '$1 ...' failed; full output in $logf"
  fi
}
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

# ---- install ----------------------------------------------------------------

marker_matches() { # NAME EXPECTED
  [[ -f "$MARKERS/$1" ]] && [[ "$(cat "$MARKERS/$1")" == "$2" ]]
}
write_marker() { # NAME CONTENT
  mkdir -p "$MARKERS"
  printf '%s\n' "$2" >"$MARKERS/$1.tmp"
  mv -f "$MARKERS/$1.tmp" "$MARKERS/$1"
}

install_dynamodb() {
  need java "a JDK 17+"
  need javac "a JDK 17+"
  need mvn "Maven 3"
  local digest expected
  digest=$(cat "$DDB_SRC/pom.xml" "$DDB_SRC/LoopbackDynamoDb.java" | sha256sum | cut -c1-16)
  expected="DynamoDBLocal $DYNAMODB_LOCAL_VERSION src:$digest"
  if marker_matches dynamodb "$expected" && [[ -f "$DDB_DIR/lib/DynamoDBLocal.jar" && -f "$DDB_DIR/classes/LoopbackDynamoDb.class" ]]; then
    return 0
  fi
  local t0=$SECONDS
  log "installing DynamoDB Local $DYNAMODB_LOCAL_VERSION (Maven Central) ..."
  rm -f "$MARKERS/dynamodb"
  rm -rf "$DDB_DIR"
  mkdir -p "$DDB_DIR/classes"
  run_logged dynamodb mvn -q -B -f "$DDB_SRC/pom.xml" \
    -Dmaven.repo.local="$CACHE/m2" \
    -Ddynamodb.local.version="$DYNAMODB_LOCAL_VERSION" \
    -Dddb.lib.dir="$DDB_DIR/lib" \
    dependency:copy-dependencies
  rm -rf "$DDB_DIR/maven-target"
  [[ -f "$DDB_DIR/lib/DynamoDBLocal.jar" ]] || die "DynamoDBLocal.jar missing after mvn"
  case "$(uname -m)" in
    x86_64 | amd64)
      [[ -f "$DDB_DIR/lib/libsqlite4java-linux-amd64.so" ]] || die "libsqlite4java-linux-amd64.so missing after mvn"
      ;;
    aarch64 | arm64)
      log "warning: DynamoDBLocal $DYNAMODB_LOCAL_VERSION's pom has no linux-aarch64 sqlite4java library; DynamoDB Local will not start here"
      ;;
  esac
  run_logged dynamodb javac --release 17 -nowarn -d "$DDB_DIR/classes" -cp "$DDB_DIR/lib/*" "$DDB_SRC/LoopbackDynamoDb.java"
  write_marker dynamodb "$expected"
  log "installed DynamoDB Local in $((SECONDS - t0))s"
}

install_venv() { # NAME VENV_DIR CHECK_CMD PIN...
  local name=$1 venv=$2 check=$3
  shift 3
  need "$PYTHON" "Python 3.10+"
  local pyver expected
  pyver=$("$PYTHON" -c 'import sys;print("%d.%d.%d" % sys.version_info[:3])')
  expected="python $pyver: $*"
  if marker_matches "$name" "$expected" && [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    return 0
  fi
  local t0=$SECONDS
  log "installing $* into ${venv#"$REPO"/} (PyPI) ..."
  rm -f "$MARKERS/$name"
  rm -rf "$venv"
  run_logged "$name" "$PYTHON" -m venv "$venv"
  run_logged "$name" "$venv/bin/python" -m pip install --disable-pip-version-check "$@"
  run_logged "$name" "$venv/bin/python" -m pip check
  (PATH="$venv/bin:$PATH" && eval "$check") >/dev/null || die "$name: installed, but '$check' failed"
  write_marker "$name" "$expected"
  log "installed $name in $((SECONDS - t0))s"
}

install_moto() {
  install_venv moto "$MOTO_VENV" 'moto_server --help' "${MOTO_PINS[@]}"
}

install_tools() {
  install_venv tools "$TOOLS_VENV" \
    'sam --version && cfn-lint --version && cargo-lambda lambda --version && python -m ziglang version' \
    "${TOOLS_PINS[@]}"
}

install_fuzz() {
  install_venv fuzz "$FUZZ_VENV" 'schemathesis --version' "${FUZZ_PINS[@]}"
}

install_stripe() {
  need go "Go 1.22+"
  local expected="$STRIPE_MOCK_MODULE@$STRIPE_MOCK_VERSION"
  if marker_matches stripe "$expected" && [[ -x "$STRIPE_MOCK_BIN" ]]; then
    return 0
  fi
  local t0=$SECONDS
  log "installing stripe-mock $STRIPE_MOCK_VERSION (Go module proxy) ..."
  rm -f "$MARKERS/stripe" "$STRIPE_MOCK_BIN"
  mkdir -p "$CACHE/bin"
  # Module and build caches live under .cache/go; -modcacherw keeps `rm -rf .cache` working.
  run_logged stripe env GOBIN="$CACHE/bin" GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" \
    GOCACHE="$CACHE/go/build" GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local \
    go install "$STRIPE_MOCK_MODULE@$STRIPE_MOCK_VERSION"
  "$STRIPE_MOCK_BIN" -version >/dev/null 2>&1 || die "stripe-mock installed but does not run"
  write_marker stripe "$expected"
  log "installed stripe-mock in $((SECONDS - t0))s"
}

cmd_install() {
  local comps=("$@") c
  [[ ${#comps[@]} -gt 0 ]] || comps=(dynamodb moto stripe tools)
  for c in "${comps[@]}"; do
    case "$c" in
      dynamodb | moto | stripe | tools | fuzz) ;;
      *) die "unknown component '$c' (expected: dynamodb moto stripe tools fuzz)" ;;
    esac
  done
  mkdir -p "$CACHE"
  # One installer at a time (two stacks may be started at once on a fresh machine).
  local lockfd
  exec {lockfd}>"$CACHE/.install.lock"
  flock "$lockfd"
  for c in "${comps[@]}"; do
    "install_$c"
  done
  exec {lockfd}>&-
}

# ---- processes --------------------------------------------------------------

abs_state_dir() { # DIR [create]
  [[ -n "${1:-}" ]] || die "missing STATE_DIR argument"
  if [[ "${2:-}" == create ]]; then mkdir -p "$1"; fi
  if [[ -d "$1" ]]; then (cd "$1" && pwd -P); else return 1; fi
}

# The tag put in each service's environment; used to make sure a pid in a pid
# file is still the process we started (and not a recycled pid).
service_tag() { printf '%s' "BILLING_STACK_SERVICE=$1/$2"; } # STATE_DIR NAME

# Prints the pid if NAME runs for STATE_DIR; fails otherwise.
service_pid() { # STATE_DIR NAME
  local pidfile="$1/pids/$2.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "$(service_tag "$1" "$2")" || return 1
  printf '%s\n' "$pid"
}

service_port() { cat "$1/pids/$2.port" 2>/dev/null || true; }

free_ports() { # N -> N distinct free loopback ports, one a line
  "$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# Where stripe-mock's (unused) HTTPS listener goes: a Unix socket, kept short
# enough for sun_path (108 bytes).
stripe_https_socket() { # STATE_DIR
  local sock="$1/pids/stripe-https.sock"
  if [[ ${#sock} -gt 100 ]]; then
    sock="${TMPDIR:-/tmp}/billing-stack-$(printf '%s' "$1" | sha256sum | cut -c1-16)-stripe-https.sock"
  fi
  printf '%s\n' "$sock"
}

launch() { # STATE_DIR NAME PORT
  local state=$1 name=$2 port=$3 cmd
  case "$name" in
    dynamodb)
      cmd=(java "-Xmx$DYNAMODB_XMX" -XX:+UseSerialGC -XX:TieredStopAtLevel=1
        -Dddb.host=127.0.0.1 -Djava.net.preferIPv4Stack=true
        "-Dsqlite4java.library.path=$DDB_DIR/lib"
        -cp "$DDB_DIR/classes:$DDB_DIR/lib/*" LoopbackDynamoDb
        -inMemory -sharedDb -port "$port" -disableTelemetry)
      ;;
    moto)
      cmd=("$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port")
      ;;
    stripe)
      # HTTP on loopback via -http-addr. stripe-mock v0.197.0 still opens its
      # default HTTPS listener on *:12112 when only -http-addr is given (its
      # "HTTP explicitly requested" check ignores -http-addr, and -http/-port
      # are rejected alongside -http-addr), so the HTTPS side is put on a Unix
      # socket file instead: no TCP listener but 127.0.0.1:PORT.
      local sock
      sock=$(stripe_https_socket "$state")
      rm -f "$sock"
      cmd=("$STRIPE_MOCK_BIN" -http-addr "127.0.0.1:$port" -https-unix "$sock")
      ;;
  esac
  printf '%s\n' "$port" >"$state/pids/$name.port"
  printf '\n==== %s: %s\n' "$(date -u +%FT%TZ)" "${cmd[*]}" >>"$state/logs/$name.log"
  # setsid: own session and process group (no SIGHUP from the terminal; stop
  # signals the whole group). In this non-interactive shell the subshell is not
  # a group leader, so setsid execs in place and $! is the service's own pid.
  (
    # The services must not inherit (and so keep holding) the state-dir lock.
    if [[ -n "$STATE_LOCK_FD" ]]; then exec {STATE_LOCK_FD}>&-; fi
    cd "$state"
    export "$(service_tag "$state" "$name")"
    exec setsid "${cmd[@]}"
  ) </dev/null >>"$state/logs/$name.log" 2>&1 &
  printf '%s\n' "$!" >"$state/pids/$name.pid"
}

probe() { # NAME PORT -> succeeds when the service answers HTTP
  local code
  case "$1" in
    stripe) code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -u sk_test_123: "http://127.0.0.1:$2/v1/customers" || true) ;;
    moto) code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$2/moto-api/" || true) ;;
    *) code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$2/" || true) ;;
  esac
  [[ -n "$code" && "$code" != 000 ]]
}

# Succeeds if PID listens on PORT and every socket PID listens on is on 127.0.0.1.
# Prints the offending lines otherwise.
listens_on_loopback_only() { # PID PORT
  local lines bad
  lines=$(ss -H -ltunp 2>/dev/null | grep -F "pid=$1," || true)
  grep -qE "[[:space:]]127\.0\.0\.1:$2[[:space:]]" <<<"$lines" || {
    printf '%s\n' "pid $1 does not listen on 127.0.0.1:$2 (port taken by another process?)" "$lines"
    return 1
  }
  bad=$(awk '$5 !~ /^127\.0\.0\.1:/' <<<"$lines")
  [[ -z "$bad" ]] || {
    printf '%s\n' "$bad"
    return 1
  }
}

show_log_tail() { # STATE_DIR NAME
  log "---- last lines of $1/logs/$2.log ----"
  tail -n 25 "$1/logs/$2.log" >&2 2>/dev/null || true
  log "----"
}

stop_services() { # STATE_DIR ; quiet when nothing runs
  local state=$1 name pid pids=() names=()
  for name in "${SERVICES[@]}"; do
    if pid=$(service_pid "$state" "$name"); then
      pids+=("$pid")
      names+=("$name")
      # The service is its own process-group leader (setsid): signal the group.
      if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
        kill -TERM -- "-$pid" 2>/dev/null || true
      else
        kill -TERM "$pid" 2>/dev/null || true
      fi
    fi
  done
  if [[ ${#pids[@]} -gt 0 ]]; then
    local deadline=$((SECONDS + STOP_TIMEOUT)) i alive
    while :; do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [[ $alive == 1 && $SECONDS -lt $deadline ]] || break
      sleep 0.1
    done
    for i in "${!pids[@]}"; do
      pid=${pids[$i]}
      if kill -0 "$pid" 2>/dev/null; then
        log "${names[$i]} (pid $pid) did not stop after ${STOP_TIMEOUT}s; sending KILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    for i in "${!pids[@]}"; do
      # Reap-free wait for the KILLed ones to disappear (bounded).
      for _ in $(seq 50); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.1; done
      log "stopped ${names[$i]} (pid ${pids[$i]})"
    done
  fi
  for name in "${SERVICES[@]}"; do
    rm -f "$state/pids/$name.pid" "$state/pids/$name.port"
  done
  rm -f "$(stripe_https_socket "$state")"
  rm -f "$state/stack.env"
}

STATE_LOCK_FD=
with_state_lock() { # STATE_DIR CMD...
  local state=$1
  shift
  exec {STATE_LOCK_FD}>"$state/.stack.lock"
  flock -w 180 "$STATE_LOCK_FD" || die "another stack.sh holds $state/.stack.lock"
  "$@"
  exec {STATE_LOCK_FD}>&-
  STATE_LOCK_FD=
}

do_start() { # STATE_DIR
  local state=$1 name all=1
  for name in "${SERVICES[@]}"; do service_pid "$state" "$name" >/dev/null || all=0; done
  if [[ $all == 1 && -f "$state/stack.env" ]]; then
    log "already running in $state"
    return 0
  fi
  stop_services "$state" 2>/dev/null # leftovers of a partial start
  cmd_install dynamodb moto stripe
  need curl "used to wait for the services"
  need ss "iproute2, used to check the listening addresses"
  need setsid "util-linux"
  mkdir -p "$state/logs" "$state/pids"

  local t0=$SECONDS ports
  local -A port attempts ready
  mapfile -t ports < <(free_ports 3)
  port[dynamodb]=${ports[0]} port[moto]=${ports[1]} port[stripe]=${ports[2]}
  for name in "${SERVICES[@]}"; do
    attempts[$name]=1 ready[$name]=0
    launch "$state" "$name" "${port[$name]}"
  done

  local deadline=$((SECONDS + START_TIMEOUT)) pending pid why
  while :; do
    pending=0
    for name in "${SERVICES[@]}"; do
      [[ ${ready[$name]} == 1 ]] && continue
      pid=$(cat "$state/pids/$name.pid")
      if ! kill -0 "$pid" 2>/dev/null; then
        if [[ ${attempts[$name]} -lt 3 ]]; then
          # Most likely the port was taken between picking and binding: retry on another.
          port[$name]=$(free_ports 1)
          attempts[$name]=$((attempts[$name] + 1))
          log "$name exited during startup; retrying on port ${port[$name]} (attempt ${attempts[$name]})"
          launch "$state" "$name" "${port[$name]}"
          pending=1
          continue
        fi
        show_log_tail "$state" "$name"
        stop_services "$state"
        die "$name exited during startup (3 attempts); see $state/logs/$name.log"
      fi
      if probe "$name" "${port[$name]}"; then
        if ! why=$(listens_on_loopback_only "$pid" "${port[$name]}"); then
          printf '%s\n' "$why" >&2
          stop_services "$state"
          die "$name (pid $pid) is not listening on 127.0.0.1:${port[$name]} only; stack stopped"
        fi
        ready[$name]=1
        log "$name ready on http://127.0.0.1:${port[$name]} (pid $pid, $((SECONDS - t0))s)"
      else
        pending=1
      fi
    done
    [[ $pending == 1 ]] || break
    if [[ $SECONDS -ge $deadline ]]; then
      for name in "${SERVICES[@]}"; do
        if [[ ${ready[$name]} == 0 ]]; then
          log "$name did not answer on 127.0.0.1:${port[$name]} within ${START_TIMEOUT}s"
          show_log_tail "$state" "$name"
        fi
      done
      stop_services "$state"
      die "stack did not come up within ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done

  local m="http://127.0.0.1:${port[moto]}"
  cat >"$state/stack.env.tmp" <<EOF
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:${port[dynamodb]}
export AWS_ENDPOINT_URL_SQS=$m
export AWS_ENDPOINT_URL_EVENTBRIDGE=$m
export AWS_ENDPOINT_URL_SCHEDULER=$m
export AWS_ENDPOINT_URL_SNS=$m
export AWS_ENDPOINT_URL_SECRETS_MANAGER=$m
export AWS_ENDPOINT_URL_CLOUDWATCH=$m
export AWS_ENDPOINT_URL_KMS=$m
export STRIPE_API_BASE=http://127.0.0.1:${port[stripe]}
export BILLING_STACK_DIR=$state
EOF
  mv -f "$state/stack.env.tmp" "$state/stack.env"
  log "stack up in $((SECONDS - t0))s; source $state/stack.env"
}

cmd_start() {
  [[ -n "${1:-}" ]] || die "usage: stack.sh start STATE_DIR"
  local state
  state=$(abs_state_dir "${1:-}" create)
  case "$state" in *[[:space:]\'\"\$\`\\]*) die "STATE_DIR must not contain spaces, quotes, \$, \` or \\: $state" ;; esac
  with_state_lock "$state" do_start "$state"
}

cmd_stop() {
  [[ -n "${1:-}" ]] || die "usage: stack.sh stop STATE_DIR"
  local state
  if ! state=$(abs_state_dir "${1:-}"); then
    log "nothing to stop: $1 does not exist"
    return 0
  fi
  with_state_lock "$state" stop_services "$state"
}

cmd_status() {
  [[ -n "${1:-}" ]] || die "usage: stack.sh status STATE_DIR"
  local state name pid all=0
  if ! state=$(abs_state_dir "${1:-}"); then
    echo "no stack in $1"
    return 3
  fi
  for name in "${SERVICES[@]}"; do
    if pid=$(service_pid "$state" "$name"); then
      printf '%-9s running  pid %-7s http://127.0.0.1:%s\n' "$name" "$pid" "$(service_port "$state" "$name")"
    else
      printf '%-9s stopped\n' "$name"
      all=3
    fi
  done
  if [[ -f "$state/stack.env" ]]; then echo "env: $state/stack.env"; fi
  return $all
}

cmd_tools_env() {
  # shellcheck disable=SC2016 # $PATH is for the shell that evals this
  printf 'export PATH=%q:%q:"$PATH"\n' "$TOOLS_VENV/bin" "$CACHE/bin"
  printf 'export SAM_CLI_TELEMETRY=0\n'
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local sub=${1:-}
  [[ $# -gt 0 ]] && shift
  case "$sub" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    tools-env) cmd_tools_env ;;
    -h | --help | help | "") usage ;;
    *)
      log "unknown command '$sub'"
      usage
      ;;
  esac
}

main "$@"
