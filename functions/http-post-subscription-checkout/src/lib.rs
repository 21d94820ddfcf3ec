//! `POST /api/billing/account/{organization_id}/subscription/checkout`
//! `{tier, success_url?, cancel_url?}` → `{checkout_url, session_id}`. The tier must be a
//! subscribable tier of the catalog with a configured Stripe price; `promo_code` applies one of
//! our promotion codes (held for the organization until the session closes).
//! The tier's trial (catalog `trial_days`) is offered while the organization never had one;
//! inside the tier's launch window the launch offer's first price is charged instead.
//! An organization with a subscription already gets `409 already_subscribed` (change plan).

use billing::lambda::HttpResult;
use billing::lambda::http::idempotency_key;
use billing::lambda::http::{authorize_billing, idempotent, json_body, ok_json};
use billing::purchases::flow::subscription_checkout;
use billing::purchases::http::SubscriptionCheckoutRequest;
use billing::subscriptions::rules as lifecycle;
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: SubscriptionCheckoutRequest = json_body(&req)?;
        let tier = app.catalog().tier(&body.tier).filter(|t| t.is_subscribable()).ok_or_else(|| {
            let offered: Vec<&str> =
                app.catalog().tiers.iter().filter(|t| t.is_subscribable()).map(|t| t.id.as_str()).collect();
            ApiError::bad_request("invalid_tier", format!("tier must be one of {}.", offered.join(", ")))
        })?;
        let price = app
            .config
            .stripe
            .tier_prices
            .get(tier.id.as_str())
            .ok_or_else(|| ApiError::Unavailable(format!("tier {} has no Stripe price configured", tier.id)))?;
        let current = app.store.subscription(&org).await?;
        if let Some(sub) = current.filter(|s| s.stripe_subscription_id.is_some() && lifecycle::is_open(&s.status)) {
            return Err(ApiError::Conflict {
                code: "already_subscribed",
                detail: format!(
                    "The organization already has a {} subscription ({}); change plan with /subscription/change instead.",
                    sub.tier, sub.status
                ),
            });
        }
        let urls = (body.success_url, body.cancel_url);
        let response = subscription_checkout(&app, &idempotency_key(&req)?, &org, (tier, price), body.promo_code.as_deref(), urls).await?;
        ok_json(&response)
    })
    .await
}
