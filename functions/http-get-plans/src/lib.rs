//! `GET /api/billing/plans` — the plan catalog: tiers with prices and limits, run prices,
//! workflow packs and credit purchase bounds. `null` limits mean unlimited. Public, like a
//! pricing page.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(app: App, _req: Request) -> HttpResult {
    ok_json(app.catalog())
}
