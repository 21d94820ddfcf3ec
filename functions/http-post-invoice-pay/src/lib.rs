//! `POST /api/billing/invoices/{invoice_id}/pay` — charges an open or past-due invoice through
//! Stripe with the default payment method: `200` with the paid invoice; `402` with a code and
//! the hosted invoice URL when the card is declined or none is on file; `409` when the invoice
//! is not payable (draft, paid, void). Another organization's invoice is a `404`.

use billing::invoicing::http::InvoiceResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use billing::telemetry::audit;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    let invoice = billing::lambda::http::visible_invoice(&app, &req, &caller).await?;
    let org = invoice.organization_id.clone();
    caller.require_billing_role(&org, &app.config.org_role_claim)?;
    billing::lambda::http::idempotent(&app, &req, &org, async {
        // A retried request (same Idempotency-Key) is one charge attempt at Stripe.
        let key = billing::purchases::flow::idempotency_key(
            &billing::lambda::http::idempotency_key(&req)?,
            &org,
            &format!("{}-pay", invoice.id),
        );
        let paid = billing::invoicing::flow::pay(&app, &invoice, &key).await?;
        audit(&org, "invoice_paid", &paid.id);
        ok_json(&InvoiceResponse::from(&paid))
    })
    .await
}
