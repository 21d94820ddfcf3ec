//! `{{METHOD}} {{path}}` (members of the organization) → TODO: what it answers.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use lambda_http::Request;

pub async fn handle(_app: App, req: Request) -> HttpResult {
    let (_caller, _org) = authorize_org(&req)?;
    ok_json(&serde_json::json!({}))
}
