//! `{{METHOD}} {{path}}` (operators) → TODO: what it does and answers.

use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(_app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    ok_json(&serde_json::json!({}))
}
