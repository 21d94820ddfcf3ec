//! `POST /api/billing/account/{organization_id}/lifetime/checkout`
//! `{success_url?, cancel_url?}` → `{checkout_url, session_id}` for the one-time lifetime plan.

use billing::lambda::HttpResult;
use billing::lambda::http::idempotency_key;
use billing::lambda::http::{authorize_billing, idempotent, json_body, ok_json};
use billing::promotions::rules::PromoTarget;
use billing::purchases::flow::{Sale, checkout, priced};
use billing::purchases::http::LifetimePurchaseRequest;
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: LifetimePurchaseRequest =
            if req.body().is_empty() { LifetimePurchaseRequest::default() } else { json_body(&req)? };
        let tier = app
            .catalog()
            .tiers
            .iter()
            .find(|t| t.is_lifetime())
            .ok_or_else(|| ApiError::not_found("not_offered", "No lifetime plan is offered."))?;
        let account = billing::purchases::flow::account(&app, &org).await?;
        if account.tier == tier.id {
            return Err(ApiError::Conflict {
                code: "already_lifetime",
                detail: "This organization already has the lifetime plan.".into(),
            });
        }
        let item = priced(
            app.config.stripe.tier_prices.get(tier.id.as_str()),
            tier.price_usd,
            &format!("{} plan", tier.name),
        )?;
        let sale = Sale::new("lifetime", item).with_promo(body.promo_code.as_deref(), PromoTarget::Lifetime);
        let response = checkout(&app, &idempotency_key(&req)?, &org, sale, (body.success_url, body.cancel_url)).await?;
        ok_json(&response)
    })
    .await
}
