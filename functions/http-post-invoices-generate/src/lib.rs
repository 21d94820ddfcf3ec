//! `POST /api/billing/account/{organization_id}/invoices/generate` — invoices the
//! organization's unbilled usage now: `201` with a new invoice, `200` with the invoice that
//! already covers the same usage (a concurrent or repeated request), `409 nothing_to_invoice`.
//! With an `Idempotency-Key`, a repeat gets the first answer.

use billing::App;
use billing::invoicing::flow::generate;
use billing::invoicing::http::InvoiceResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotent, json_response};
use billing::telemetry::audit;
use lambda_http::Request;
use lambda_http::http::StatusCode;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let generated = generate(&app, &org).await?;
        let status = if generated.created {
            audit(&org, "invoice_generated", &generated.invoice.id);
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        json_response(status, &InvoiceResponse::from(&generated.invoice))
    })
    .await
}
