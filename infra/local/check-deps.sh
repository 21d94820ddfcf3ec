#!/usr/bin/env bash
# Fails when the workspace links a second HTTP or TLS stack, or a TLS backend other than
# rustls with aws-lc-rs: e.g. the AWS SDK's legacy hyper 0.14 / rustls 0.21 / ring client
# coming back through a default feature. Every function pays for what it links at cold start.
set -euo pipefail
cd "$(dirname "$0")/../.."
duplicated=$(cargo tree --locked -d -e normal --workspace --depth 0 --prefix none \
  | grep -E '^(hyper|h2|http|http-body|rustls|tokio-rustls|hyper-rustls) v' | sort -u || true)
backends=$(cargo tree --locked -e normal --workspace --prefix none \
  | grep -E '^(ring|openssl|openssl-sys|native-tls) v' | sort -u || true)
if [ -n "$duplicated$backends" ]; then
  echo "more than one HTTP/TLS stack is linked:" >&2
  printf '%s\n' "$duplicated" "$backends" | sed '/^$/d; s/^/  /' >&2
  echo "see 'cargo tree -d -e normal' and disable the default features that bring it" >&2
  exit 1
fi
echo "one HTTP/TLS stack: $(cargo tree --locked -e normal --workspace --prefix none | grep -E '^(hyper|rustls|aws-lc-rs) v' | sort -u | sed 's/ (\*)//' | sort -u | tr '\n' ' ')"
