#!/usr/bin/env bash
# CI: the Makefile's documented targets (those with a `## ` description, what the README and
# `grep '##' Makefile` point people to) cannot rot unnoticed. Most of them (dev, bench,
# bench-lambda, deploy-web, ...) are not run by CI, so a broken one is otherwise found by the
# next person who needs it: `make bench-lambda` once failed after a fresh `make test` because
# flags meant for its release builds reached its host build of the harness.
#   1. every documented target is .PHONY and `make -n TARGET` succeeds;
#   2. every script they call, and every infra/ script those call in turn, exists and passes
#      `bash -n`;
#   3. bench-lambda's own host build, in the environment bench-lambda.sh sets
#      (BENCH_LAMBDA_BUILD_ONLY=1): after `make test` only lambda-bench's binary compiles, a few
#      seconds; the release builds, emulators and runs are left out (minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."

start=$(date +%s%N)
fail=0
problem() {
  echo "check-make-targets: $*" >&2
  fail=1
}

mapfile -t targets < <(sed -nE 's/^([A-Za-z0-9_.-]+):.*## .*/\1/p' Makefile)
[ "${#targets[@]}" -gt 0 ] || {
  echo "check-make-targets: no target documented with '## ' in the Makefile" >&2
  exit 1
}
phony=" $(sed -nE 's/^\.PHONY:[[:space:]]*//p' Makefile | tr '\n' ' ') "

# 1. Dry runs; the scripts each prints are collected for 2.
declare -A called_by=()
targets_ok=0
for t in "${targets[@]}"; do
  [[ "$phony" == *" $t "* ]] || problem "make $t: not in .PHONY (a file named $t would make it a no-op)"
  if ! out=$(make -n "$t" 2>&1); then
    problem "make -n $t failed:"$'\n'"$out"
    continue
  fi
  targets_ok=$((targets_ok + 1))
  while read -r s; do
    [ -n "$s" ] && [ -z "${called_by[$s]:-}" ] && called_by[$s]="make $t"
  done < <(grep -oE '[A-Za-z0-9_./-]+\.sh\b' <<<"$out" | sort -u)
done

# 2. The scripts, and the repository scripts they call (comment lines skipped: a call, not a mention).
queue=("${!called_by[@]}")
scripts_ok=0
while [ "${#queue[@]}" -gt 0 ]; do
  s=${queue[0]}
  queue=("${queue[@]:1}")
  if [ ! -f "$s" ]; then
    problem "$s (called by ${called_by[$s]}) does not exist"
    continue
  fi
  if bash -n "$s"; then
    scripts_ok=$((scripts_ok + 1))
  else
    problem "$s (called by ${called_by[$s]}) does not parse (bash -n)"
  fi
  while read -r c; do
    if [ -n "$c" ] && [ -z "${called_by[$c]:-}" ]; then
      called_by[$c]=$s
      queue+=("$c")
    fi
  done < <(grep -vE '^[[:space:]]*#' "$s" | grep -oE '\binfra/[A-Za-z0-9_./-]+\.sh\b' | sort -u || true)
done
echo "make -n: $targets_ok of ${#targets[@]} documented targets pass; $scripts_ok of ${#called_by[@]} scripts they call exist and parse"

# 3. bench-lambda's host-tool build, exactly as `make bench-lambda` runs it.
BENCH_LAMBDA_BUILD_ONLY=1 bash infra/local/bench-lambda.sh ||
  problem "bench-lambda: the harness does not build in bench-lambda.sh's environment (BENCH_LAMBDA_BUILD_ONLY=1 bash infra/local/bench-lambda.sh)"

took=$((($(date +%s%N) - start) / 1000000))
echo "documented make targets checked in $((took / 1000)).$(printf '%03d' $((took % 1000)))s"
exit "$fail"
