//! `GET /api/billing/plans` — the plan catalog: tiers with prices and limits, run prices,
//! workflow packs and credit purchase bounds. `null` limits mean unlimited.

use billing::App;
use billing::auth::Caller;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?;
    ok_json(app.catalog())
}
