//! `GET /api/billing/config` — the Stripe publishable key for Stripe.js, and whether payments
//! are configured at all. Public: the frontend fetches it before anyone signs in, and it
//! holds nothing secret.

use billing::App;
use billing::catalog::http::StripeConfigResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(app: App, _req: Request) -> HttpResult {
    ok_json(&StripeConfigResponse::from(&app.config.stripe))
}
