//! `POST /api/billing/account/{organization_id}/workflow-packs/checkout`
//! `{pack: 10 | 50, success_url?, cancel_url?}` → `{checkout_url, session_id}`.
//! Packs and their prices come from the catalog (or a configured Stripe price per pack).

use billing::lambda::HttpResult;
use billing::lambda::http::idempotency_key;
use billing::lambda::http::{authorize_billing, idempotent, json_body, ok_json};
use billing::promotions::rules::PromoTarget;
use billing::purchases::flow::{Sale, checkout, priced};
use billing::purchases::http::PackPurchaseRequest;
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: PackPurchaseRequest = json_body(&req)?;
        let id = body.pack.to_string();
        let pack = app.catalog().pack(&id).ok_or_else(|| {
            let offered: Vec<&str> = app.catalog().workflow_packs.iter().map(|p| p.id.as_str()).collect();
            ApiError::bad_request("unknown_pack", format!("pack must be one of {}.", offered.join(", ")))
        })?;
        let item = priced(
            app.config.stripe.pack_prices.get(&id),
            Some(pack.price_usd),
            &format!("{} workflow pack", pack.workflows),
        )?;
        let sale = Sale::new("pack", item)
            .with_metadata("pack", id.clone())
            .with_promo(body.promo_code.as_deref(), PromoTarget::Pack(&id));
        let response = checkout(&app, &idempotency_key(&req)?, &org, sale, (body.success_url, body.cancel_url)).await?;
        ok_json(&response)
    })
    .await
}
