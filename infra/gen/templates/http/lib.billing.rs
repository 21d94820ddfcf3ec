//! `{{METHOD}} {{path}}` (owners and billing admins) → TODO: what it does and answers.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, ok_json};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, _org) = authorize_billing(&app, &req)?;
    ok_json(&serde_json::json!({}))
}
