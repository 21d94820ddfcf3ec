#!/usr/bin/env bash
# `make sizes`: every function's arm64 `bootstrap`, built with cargo-lambda as `sam build`
# builds it (release profile, .cargo/config.toml's arm64 flags), and a Markdown table of their
# sizes. Fails when one is over 8 MB (issue 14's budget for every function).
#
# Functions with the same `billing` dependency line build together: the same features of the
# shared crate, so each binary is what building it alone gives, in one compile of the shared
# crate per feature set (64 fat-LTO links still dominate: about half an hour on 2 cores).
#
# Knobs: SIZES_TARGET_DIR (default target/lambda-arm), SIZES_FUNCTIONS (packages, default all).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/local/stack.sh install tools >&2
eval "$(bash infra/local/stack.sh tools-env)"
target=${SIZES_TARGET_DIR:-target/lambda-arm}
read -r -a only <<<"${SIZES_FUNCTIONS:-}"

declare -A groups=() lines=()
for manifest in functions/*/Cargo.toml; do
  package=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $package "* ]]; then continue; fi
  key=$(grep -E '^billing[ .=]' "$manifest" || echo "no billing dependency")
  groups[$key]+=" -p $package"
  lines[$package]=$key
done
for key in "${!groups[@]}"; do
  read -r -a args <<<"${groups[$key]}"
  echo "building $(( ${#args[@]} / 2 )) functions for arm64 with: $key" >&2
  start=$(date +%s)
  CARGO_TARGET_DIR=$target nice -n 10 cargo lambda build --locked --release --arm64 --quiet "${args[@]}" >&2
  echo "  in $(( $(date +%s) - start )) s" >&2
done

over=0
echo "| function | features of the shared crate | bootstrap |"
echo "|---|---|---:|"
for package in $(printf '%s\n' "${!lines[@]}" | sort); do
  bytes=$(stat -c %s "$target/lambda/$package/bootstrap")
  features=$(sed -n 's/.*features *= *\[\([^]]*\)\].*/\1/p' <<<"${lines[$package]}" | tr -d '" ')
  mark=""
  if [ "$bytes" -gt 8000000 ]; then mark=" **over 8 MB**"; over=$((over + 1)); fi
  printf '| %s | %s | %d.%02d MB%s |\n' "$package" "${features:-none}" \
    $((bytes / 1000000)) $((bytes % 1000000 / 10000)) "$mark"
done
if [ "$over" -gt 0 ]; then
  echo "$over function(s) over 8 MB" >&2
  exit 1
fi
