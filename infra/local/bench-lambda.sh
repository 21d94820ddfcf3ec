#!/usr/bin/env bash
# `make bench-lambda`: builds the benchmarked functions and the two floors, the hello world
# (tests/lambda-hello) and the hello world with one DynamoDB read on the workspace's AWS stack
# (tests/lambda-sdk-floor), with the release profile, each package on its own as cargo-lambda does,
# then runs tests/lambda-bench against a private emulator stack: every binary is started as a
# Lambda sandbox against a Runtime API emulator, repeatedly, and a Markdown table is printed.
#
# Knobs: BENCH_LAMBDA_RUNS (cold starts per function, default 10), BENCH_LAMBDA_FUNCTIONS
# (packages, default below), BENCH_LAMBDA_PAGE_CACHE (warm|cold|both, default both),
# BENCH_LAMBDA_TARGET_DIR (where the release builds go, default target; give each profile
# variant its own to compare them without rebuilding). CARGO_PROFILE_RELEASE_* variables
# try a profile without editing Cargo.toml, e.g. CARGO_PROFILE_RELEASE_LTO=fat.
# BENCH_LAMBDA_BUILD_ONLY=1 only builds the instrument (tests/lambda-bench), in the environment
# this script sets, and exits: CI runs it (infra/local/check-make-targets.sh) so that a flag meant
# for the release builds leaking into that host build is caught in seconds, not by the next
# person to run `make bench-lambda`.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Built as deployed: position-dependent, as .cargo/config.toml builds the arm64 functions. The
# flags are given to the release builds' command only, whose explicit --target keeps them off
# build scripts and proc macros. Not exported: the instrument's host build below has no
# --target, so cargo would apply them to everything it builds, proc macros included, and
# serde_derive & co. (shared objects) fail to link position-dependent.
host=x86_64-unknown-linux-gnu
release_rustflags=${CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS:--C relocation-model=static}

# The instrument is built in the dev profile, so it stays the same whatever the release profile,
# and without the release flags even if the caller exported them: it then reuses what `make test`
# built (only its own binary compiles). Built first, so a broken harness fails before minutes of
# release builds.
nice -n 10 env -u CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS cargo build --locked --quiet -p lambda-bench
if [ "${BENCH_LAMBDA_BUILD_ONLY:-}" = 1 ]; then
  echo "bench-lambda: target/debug/lambda-bench built (BENCH_LAMBDA_BUILD_ONLY=1, nothing run)"
  exit 0
fi

read -r -a functions <<<"${BENCH_LAMBDA_FUNCTIONS:-http-get-config http-post-reservation sqs-usage-events cron-expire-holds}"
target=${BENCH_LAMBDA_TARGET_DIR:-target}
mkdir -p .local/bench-lambda
rm -rf .local/bench-lambda/functions

echo "release profile: $(sed -n '/^\[profile.release\]/,/^\[/p' Cargo.toml | grep -E '^[a-z-]+ *=' | tr '\n' ' ')" \
  "$(env | grep '^CARGO_PROFILE_RELEASE_' | tr '\n' ' ' || true)"
args=()
total=0
for package in lambda-hello lambda-sdk-floor "${functions[@]}"; do
  start=$(date +%s%N)
  CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$release_rustflags" \
    nice -n 10 cargo build --locked --release --quiet --target "$host" --target-dir "$target" -p "$package"
  took=$((($(date +%s%N) - start) / 1000000))
  total=$((total + took))
  echo "built $package in $((took / 1000)).$(printf '%03d' $((took % 1000)))s"
  args+=("$package=$target/$host/release/$package")
done
echo "release builds: $((total / 1000))s in all"
bash infra/local/with-stack.sh .local/bench-lambda/stack \
  target/debug/lambda-bench --page-cache "${BENCH_LAMBDA_PAGE_CACHE:-both}" "${args[@]}"
