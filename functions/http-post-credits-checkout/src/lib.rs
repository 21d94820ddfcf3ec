//! `POST /api/billing/account/{organization_id}/credits/checkout`
//! `{amount_usd (0 < x ≤ 1000), success_url?, cancel_url?}` → `{checkout_url, session_id}`.
//! The credits arrive when Stripe reports the payment (`checkout.session.completed`).

use billing::lambda::HttpResult;
use billing::lambda::http::idempotency_key;
use billing::lambda::http::{authorize_billing, idempotent, json_body, ok_json};
use billing::payments::client::CheckoutItem;
use billing::purchases::flow::{CheckoutResponse, Sale, checkout};
use billing::purchases::http::CreditPurchaseRequest;
use billing::{ApiError, App};
use lambda_http::Request;
use rust_decimal::Decimal;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: CreditPurchaseRequest = json_body(&req)?;
        let max = app.catalog().credit_purchase.max_usd;
        if body.amount_usd <= Decimal::ZERO || body.amount_usd > max {
            return Err(ApiError::bad_request(
                "invalid_amount",
                format!("amount_usd must be above 0 and at most {max}."),
            ));
        }
        let cents = billing::money::exact_cents(body.amount_usd)
            .map_err(|e| ApiError::bad_request("invalid_amount", format!("amount_usd: {e}.")))?;
        // What Stripe shows the customer: always dollars and cents ("$42.50", not "$42.5").
        let item = CheckoutItem::Amount { cents, name: format!("Prepaid credits (${:.2})", body.amount_usd) };
        let response: CheckoutResponse = checkout(
            &app,
            &idempotency_key(&req)?,
            &org,
            Sale::new("credits", item),
            (body.success_url, body.cancel_url),
        )
        .await?;
        ok_json(&response)
    })
    .await
}
