//! `PUT /api/billing/account/{organization_id}/byo-keys/{provider}` `{api_key, base_url?}`
//! (owners and billing admins) → `ByoKeyResponse`: seals the key under the organization's own
//! data key (KMS envelope encryption) and stores it, replacing the provider's earlier one.
//! The answer shows only its last four characters. `400 unknown_provider`, `invalid_api_key`,
//! `invalid_base_url`; `409 byo_keys_not_in_plan` when the plan does not include them.

use billing::App;
use billing::byo_keys::flow as byo_keys;
use billing::byo_keys::http::{ByoKeyRequest, ByoKeyResponse};
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, json_body, ok_json, path_param};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    let provider = path_param(&req, "provider")?;
    let body: ByoKeyRequest = json_body(&req)?;
    let stored = byo_keys::save(&app, &org, &provider, &body.api_key, body.base_url.as_deref()).await?;
    ok_json(&ByoKeyResponse::from(&stored))
}
