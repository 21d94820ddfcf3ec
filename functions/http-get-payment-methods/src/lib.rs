//! `GET /api/billing/account/{organization_id}/payment-methods` → `PaymentMethodResponse[]`,
//! with the customer's default marked. An organization without a Stripe customer has none.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::purchases::flow::{account, stripe};
use billing::purchases::http::payment_methods::PaymentMethodResponse;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let Some(customer) = account(&app, &org).await?.stripe_customer_id else {
        return ok_json(&Vec::<PaymentMethodResponse>::new());
    };
    let stripe = stripe(&app)?;
    let default = stripe.default_payment_method(&customer).await?;
    let methods = stripe.payment_methods(&customer).await?;
    let response: Vec<PaymentMethodResponse> =
        methods.iter().map(|m| PaymentMethodResponse::new(m, default.as_deref() == Some(m.id.as_str()))).collect();
    ok_json(&response)
}
