//! `DELETE /api/billing/account/{organization_id}/byo-keys/{provider}` (owners and billing
//! admins) → `{}`: removes the stored key. `404 byo_key_not_found` when there is none.

use billing::App;
use billing::byo_keys::flow as byo_keys;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, ok_json, path_param};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    let provider = path_param(&req, "provider")?;
    byo_keys::delete(&app, &org, &provider).await?;
    ok_json(&serde_json::json!({}))
}
