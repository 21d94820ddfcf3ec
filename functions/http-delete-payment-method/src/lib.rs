//! `DELETE /api/billing/account/{organization_id}/payment-methods/{payment_method_id}` —
//! detaches a payment method, but only one that belongs to this organization's customer
//! (anything else is 404, so other customers' ids cannot be probed).

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, ok_json, path_param};
use billing::purchases::flow::{account, stripe};
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    let payment_method = path_param(&req, "payment_method_id")?;
    let not_found = || ApiError::not_found("payment_method_not_found", "This organization has no such payment method.");
    if !payment_method.starts_with("pm_") || !billing::ids::is_safe_id(&payment_method) {
        return Err(not_found());
    }
    let customer = account(&app, &org).await?.stripe_customer_id.ok_or_else(not_found)?;
    let stripe = stripe(&app)?;
    let owner = stripe.payment_method_owner(&payment_method).await.map_err(|e| match e {
        billing::payments::PaymentError::NotFound(_) => not_found(),
        other => other.into(),
    })?;
    if owner.as_deref() != Some(customer.as_str()) {
        return Err(not_found());
    }
    stripe.detach_payment_method(&payment_method).await?;
    let remaining = stripe.payment_methods(&customer).await?;
    app.store.set_has_payment_method(&org, !remaining.is_empty()).await?;
    billing::telemetry::audit(&org, "payment_method_detached", &payment_method);
    ok_json(&serde_json::json!({ "deleted": true, "id": payment_method }))
}
