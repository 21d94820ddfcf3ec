//! `{{METHOD}} {{path}}` (owners and billing admins) → TODO: what it does and answers. A repeat
//! with the same `Idempotency-Key` gets the first answer again.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotent, ok_json};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async { ok_json(&serde_json::json!({})) }).await
}
