//! `GET /api/billing/internal/byo-keys/{organization_id}/{provider}` (the workflow engine,
//! IAM) → `ByoKeySecretResponse` with the decrypted key, while the organization's plan
//! includes bring-your-own keys (`409 byo_keys_not_in_plan`); records when it was last used.
//! A stored key that no longer decrypts is `409 byo_key_unreadable`, never a wrong key.

use billing::App;
use billing::byo_keys::flow as byo_keys;
use billing::byo_keys::http::ByoKeySecretResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_service_org, ok_json, path_param};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_service_org(&app, &req)?;
    let provider = path_param(&req, "provider")?;
    let (api_key, stored) = byo_keys::reveal(&app, &org, &provider).await?;
    ok_json(&ByoKeySecretResponse {
        organization_id: org.to_string(),
        provider: stored.provider,
        api_key,
        base_url: stored.base_url,
    })
}
