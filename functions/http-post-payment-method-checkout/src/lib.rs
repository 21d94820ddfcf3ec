//! `POST /api/billing/account/{organization_id}/payment-methods/checkout`
//! `{success_url?, cancel_url?}` → `{checkout_url, session_id}`: a Stripe Checkout session in
//! setup mode where the customer adds a card (no card data reaches us, nothing is charged).
//! The card is saved, and made the default if there is none, when Stripe reports the session
//! completed. Owners and billing admins only; `Idempotency-Key` returns the same session.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::idempotency_key;
use billing::lambda::http::{authorize_billing, idempotent, json_body_or_empty, ok_json};
use billing::purchases::flow::setup_checkout;
use billing::purchases::http::PaymentMethodCheckoutRequest;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: PaymentMethodCheckoutRequest = json_body_or_empty(&req)?;
        ok_json(&setup_checkout(&app, &idempotency_key(&req)?, &org, (body.success_url, body.cancel_url)).await?)
    })
    .await
}
