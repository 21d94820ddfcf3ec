#!/usr/bin/env bash
# Type-checks every function the way `sam build` builds it: its package alone, with only its
# own features of the shared crate. A workspace build unifies features (and so the futures'
# types) across all functions and can pass where a function alone does not compile; this
# caught one. Packages with the same `billing` dependency line are checked together: same
# features, one check of the shared crate per feature set.
set -euo pipefail
cd "$(dirname "$0")/../.."

declare -A groups=()
for manifest in functions/*/Cargo.toml; do
  package=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  key=$(grep -E '^billing[ .=]' "$manifest" || echo "no billing dependency")
  groups[$key]+=" -p $package"
done
for key in "${!groups[@]}"; do
  read -r -a args <<<"${groups[$key]}"
  echo "checking $(( ${#args[@]} / 2 )) functions alone with: $key"
  cargo check --locked --quiet "${args[@]}"
done
