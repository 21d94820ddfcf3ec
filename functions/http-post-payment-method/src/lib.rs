//! `POST /api/billing/account/{organization_id}/payment-method`
//! `{payment_method_id, set_as_default}` → `PaymentMethodResponse`: attaches a payment method
//! collected by Stripe.js (no card data reaches us) to the organization's customer.

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotent, json_body, ok_json};
use billing::purchases::flow::{ensure_customer, stripe};
use billing::purchases::http::PaymentMethodRequest;
use billing::purchases::http::payment_methods::PaymentMethodResponse;
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: PaymentMethodRequest = json_body(&req)?;
        if !body.payment_method_id.starts_with("pm_") || !billing::ids::is_safe_id(&body.payment_method_id) {
            return Err(ApiError::bad_request(
                "invalid_payment_method",
                "payment_method_id must be a Stripe payment method id (pm_…).",
            ));
        }
        let customer = ensure_customer(&app, &org).await?;
        let stripe = stripe(&app)?;
        let method = stripe.attach_payment_method(&customer, &body.payment_method_id).await?;
        if body.set_as_default {
            stripe.set_default_payment_method(&customer, &method.id).await?;
        }
        app.store.set_has_payment_method(&org, true).await?;
        billing::telemetry::audit(&org, "payment_method_attached", &method.id);
        ok_json(&PaymentMethodResponse::new(&method, body.set_as_default))
    })
    .await
}
