//! `POST /api/billing/admin/promo-codes/{code}/deactivate` (billing-admin) →
//! `PromoCodeResponse`. Turns the Stripe promotion code off, then ours (audited); checkouts
//! already open keep their discount. Deactivating an inactive code changes nothing.

use billing::lambda::HttpResult;
use billing::lambda::http::{ok_json, path_param};
use billing::operators::flow::Operator;
use billing::promotions::flow as promo_codes;
use billing::promotions::http::PromoCodeResponse;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    caller.require_admin()?;
    let code = path_param(&req, "code")?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let item = promo_codes::deactivate(&app, &code, operator).await?;
    ok_json(&PromoCodeResponse::from(&item))
}
