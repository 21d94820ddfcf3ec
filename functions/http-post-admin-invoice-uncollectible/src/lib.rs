//! `POST /api/billing/admin/invoices/{invoice_id}/uncollectible` `{reason}` (billing-admin)
//! → `InvoiceActionResponse`. Writes an open or past-due invoice off as a bad debt at Stripe
//! and here: it stays payable (`past_due`) but leaves dunning, so no more reminders or
//! suspensions follow from it. Audited; a retry answers the same.

use billing::invoicing::flow::actions as invoice_actions;
use billing::invoicing::http::InvoiceActionResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{json_body, ok_json, path_param};
use billing::operators::flow::Operator;
use billing::operators::http::AdminReasonRequest;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    caller.require_admin()?;
    let invoice_id = path_param(&req, "invoice_id")?;
    let body: AdminReasonRequest = json_body(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let closed = invoice_actions::mark_uncollectible(&app, &invoice_id, operator, body.reason.as_deref()).await?;
    let answer = InvoiceActionResponse::new(&closed.invoice, &closed.closure, 0, None, 0);
    ok_json(&answer)
}
