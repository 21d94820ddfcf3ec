//! `GET /api/billing/account/{organization_id}/byo-keys` (members) → `[ByoKeyResponse]`: each
//! stored provider key's provider, last four characters, base URL and times — never the key.

use billing::App;
use billing::byo_keys::flow as byo_keys;
use billing::byo_keys::http::ByoKeyResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let keys = byo_keys::list(&app, &org).await?;
    ok_json(&keys.iter().map(ByoKeyResponse::from).collect::<Vec<_>>())
}
