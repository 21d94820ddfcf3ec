//! `GET /api/billing/admin/promo-codes` (billing-admin) → `PromoCodeListResponse`: every
//! code with its redemptions (paid and held by open checkouts) and its Stripe ids.

use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use billing::promotions::flow as promo_codes;
use billing::promotions::http::{PromoCodeListResponse, PromoCodeResponse};
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let codes = promo_codes::list(&app).await?;
    ok_json(&PromoCodeListResponse { promo_codes: codes.iter().map(PromoCodeResponse::from).collect() })
}
