//! `GET /api/billing/account/{organization_id}/subscription` → `SubscriptionResponse` for every
//! account: its Stripe subscription, or the lifetime, enterprise or free plan it is on.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::subscriptions::flow::view;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    ok_json(&view::subscription(&app, &org).await?)
}
