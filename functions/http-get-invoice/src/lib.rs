//! `GET /api/billing/invoices/{invoice_id}` — one invoice, for members of its organization.
//! Another organization's invoice answers exactly like a missing one: the id alone never
//! grants access, nor tells that the invoice exists.

use billing::invoicing::http::InvoiceResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    let invoice = billing::lambda::http::visible_invoice(&app, &req, &caller).await?;
    ok_json(&InvoiceResponse::from(&invoice))
}
