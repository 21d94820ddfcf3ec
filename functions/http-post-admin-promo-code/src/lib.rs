//! `POST /api/billing/admin/promo-codes` `{code, percent_off? | amount_off_usd?, duration,
//! duration_in_months?, max_redemptions?, expires_at?, applies_to?}` (billing-admin) →
//! `201 PromoCodeResponse`. Mirrored first to a Stripe coupon and promotion code; audited in
//! the code's own trail. An existing code → `409 promo_code_exists`.

use billing::lambda::HttpResult;
use billing::lambda::http::{json_body, json_response};
use billing::operators::flow::Operator;
use billing::promotions::flow as promo_codes;
use billing::promotions::http::{PromoCodeRequest, PromoCodeResponse};
use billing::{App, auth::Caller};
use lambda_http::Request;
use lambda_http::http::StatusCode;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    caller.require_admin()?;
    let body: PromoCodeRequest = json_body(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let item = promo_codes::create(&app, &body.to_request(), operator).await?;
    json_response(StatusCode::CREATED, &PromoCodeResponse::from(&item))
}
