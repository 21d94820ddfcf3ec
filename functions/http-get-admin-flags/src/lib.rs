//! `GET /api/billing/admin/flags` (billing-admin) → `FlagListResponse`: every defined flag
//! with its default, tier values and last change, in name order (one query of the `FLAGS`
//! partition). The operators' flags page lists them; no flag defined is an empty list.

use billing::flags::flow as flags;
use billing::flags::http::{FlagListResponse, FlagResponse};
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let defined = flags::list(&app).await?;
    ok_json(&FlagListResponse { flags: defined.iter().map(FlagResponse::from).collect() })
}
