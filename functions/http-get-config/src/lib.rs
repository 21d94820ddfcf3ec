//! `GET /api/billing/config` — the Stripe publishable key for Stripe.js, and whether payments
//! are configured at all. Needs a signed-in user but no organization.

use billing::App;
use billing::api::StripeConfigResponse;
use billing::auth::Caller;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?;
    ok_json(&StripeConfigResponse::from(&app.config.stripe))
}
