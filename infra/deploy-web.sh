#!/usr/bin/env bash
# `make deploy-web`: uploads the pages to the stack's SiteBucket and refreshes CloudFront.
#   STACK   the stack `sam deploy` made (default: samconfig.toml's stack, billing-dev)
#   OIDC_AUTHORITY, OIDC_CLIENT_ID [, OIDC_SCOPE]   the identity provider the pages sign in
#           with (authorization code + PKCE); written to /config.json. Without them the pages
#           expect a token handed over by a host app (`#access_token=`).
# Needs the AWS CLI and credentials, like `sam deploy`.
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${STACK:-billing-dev}
command -v aws >/dev/null || { echo "deploy-web: the AWS CLI is needed (as for sam deploy)" >&2; exit 1; }

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket=$(output SiteBucketName)
distribution=$(output SiteDistributionId)
[[ -n "$bucket" && "$bucket" != None ]] || { echo "deploy-web: stack $stack has no SiteBucketName output" >&2; exit 1; }

bash infra/local/web-build.sh
if [[ -n "${OIDC_AUTHORITY:-}" ]]; then
  python3 - "$OIDC_AUTHORITY" "${OIDC_CLIENT_ID:?OIDC_CLIENT_ID is needed with OIDC_AUTHORITY}" "${OIDC_SCOPE:-openid profile email}" \
    >web/dist/config.json <<'PY'
import json, sys
print(json.dumps({"oidc": {"authority": sys.argv[1], "client_id": sys.argv[2], "scope": sys.argv[3]}}))
PY
fi
# Hashed assets never change under their name (old ones stay for pages already open);
# everything else is asked for again each time.
aws s3 sync web/dist/assets "s3://$bucket/assets" --exclude "*.gz" --cache-control "public, max-age=31536000, immutable"
aws s3 sync web/dist "s3://$bucket" --exclude "assets/*" --exclude "*.gz" --cache-control "no-cache" --delete
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/index.html" "/config.json" >/dev/null
echo "deploy-web: $(output SiteUrl)"
