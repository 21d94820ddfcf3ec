//! `POST /api/billing/admin/invoices/{invoice_id}/void` `{reason, rebill_usage?}`
//! (billing-admin) → `InvoiceActionResponse`. Voids an open or past-due invoice at Stripe
//! and here: its usage goes back to unbilled (unless `rebill_usage` is false), whatever is
//! not billed again is written off in a credit note, balance credits it applied return to
//! the account, and a non-payment suspension it held is lifted. Audited; a retry finishes
//! the same void.

use billing::invoicing::flow::actions as invoice_actions;
use billing::invoicing::http::{InvoiceActionResponse, VoidInvoiceRequest};
use billing::invoicing::rules::void::Rebill;
use billing::lambda::HttpResult;
use billing::lambda::http::{json_body, ok_json, path_param};
use billing::operators::flow::Operator;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    caller.require_admin()?;
    let invoice_id = path_param(&req, "invoice_id")?;
    let body: VoidInvoiceRequest = json_body(&req)?;
    let rebill = if body.rebill_usage.unwrap_or(true) { Rebill::Usage } else { Rebill::Nothing };
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let closed = invoice_actions::void(&app, &invoice_id, operator, body.reason.as_deref(), rebill).await?;
    let credit_note = closed.credit_note.as_ref().map(|n| n.amount_cents);
    let answer = InvoiceActionResponse::new(
        &closed.invoice,
        &closed.closure,
        closed.usage_returned,
        credit_note,
        closed.refunded_cents,
    );
    ok_json(&answer)
}
