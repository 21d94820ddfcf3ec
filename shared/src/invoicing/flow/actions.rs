//! Operators ending an unpaid invoice's collection: voiding it (at Stripe first, then here
//! with its credit note, returned balance credits and usage handed back to unbilled) or
//! writing it off as uncollectible. Both are audited, refused without a reason, and safe to
//! retry: a repeated void finishes handing the usage back and changes nothing else.

use futures::StreamExt;

use crate::App;
use crate::events::{DomainEvent, Envelope};
use crate::invoicing::rules::void::{self, CreditNote, Rebill};
use crate::invoicing::rules::{Invoice, InvoiceStatus, OperatorClosure};
use crate::invoicing::store::operator::VoidWrites;
use crate::money::dollars;
use crate::operators::flow::Operator;
use crate::operators::rules::audit::{AuditEntry, ReasonError, checked_reason};
use crate::payments::PaymentError;
use crate::store::StoreError;
use crate::usage::rules::{LedgerEntry, LedgerKind};

/// Usage records handed back at once.
const RETURNS_IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum InvoiceActionError {
    #[error(transparent)]
    Reason(#[from] ReasonError),
    #[error("There is no such invoice.")]
    NotFound,
    #[error("The invoice is {0}; only an open or past-due invoice can be closed.")]
    NotOpen(&'static str),
    #[error("Part of the invoice was paid; refund the payment in Stripe instead.")]
    PartlyPaid,
    #[error("An operator already closed this invoice ({0}).")]
    AlreadyClosed(String),
    #[error("The invoice kept changing; retry.")]
    Busy,
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A closed invoice and what closing it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Closed {
    pub invoice: Invoice,
    pub closure: OperatorClosure,
    pub credit_note: Option<CreditNote>,
    pub refunded_cents: crate::money::Cents,
    /// Usage records handed back to unbilled by this call.
    pub usage_returned: u32,
}

fn closable(invoice: &Invoice, action: &str) -> Result<(), InvoiceActionError> {
    if let Some(closure) = &invoice.closed_by_operator
        && closure.action == action
    {
        return Ok(());
    }
    if let Some(closure) = &invoice.closed_by_operator {
        return Err(InvoiceActionError::AlreadyClosed(closure.action.clone()));
    }
    if !invoice.status.is_payable() {
        return Err(InvoiceActionError::NotOpen(invoice.status.as_str()));
    }
    if invoice.amount_paid_cents > 0 {
        return Err(InvoiceActionError::PartlyPaid);
    }
    Ok(())
}

async fn read(app: &App, invoice_id: &str) -> Result<Invoice, InvoiceActionError> {
    if !crate::ids::is_safe_id(invoice_id) {
        return Err(InvoiceActionError::NotFound);
    }
    app.store.invoice_by_id(invoice_id).await?.ok_or(InvoiceActionError::NotFound)
}

/// Voids an open or past-due invoice. With `Rebill::Usage` its usage goes back to unbilled;
/// what is not billed again is written off in a credit note. Balance credits it applied go
/// back to the account, and a non-payment suspension it held is lifted.
pub async fn void(
    app: &App,
    invoice_id: &str,
    operator: Operator<'_>,
    reason: Option<&str>,
    rebill: Rebill,
) -> Result<Closed, InvoiceActionError> {
    let reason = checked_reason(reason)?;
    let mut invoice = read(app, invoice_id).await?;
    closable(&invoice, "void")?;
    // At Stripe first: if our write then fails, a retry finds Stripe's invoice void already
    // (same idempotency key) and completes ours.
    if invoice.closed_by_operator.is_none()
        && let Some(stripe_id) = invoice.stripe_invoice_id.as_deref()
    {
        let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
        stripe.void_invoice(stripe_id, &invoice.id).await?;
    }
    let mut credit_note = None;
    let mut refunded_cents = 0;
    for attempt in 0..5 {
        if invoice.closed_by_operator.is_some() {
            break;
        }
        if attempt > 0 {
            crate::store::jittered_pause(attempt).await;
        }
        let now = app.now();
        let plan = void::plan(&invoice, rebill);
        let closure = OperatorClosure {
            action: "void".into(),
            reason: reason.clone(),
            by: operator.subject.to_owned(),
            at: now,
            usage_returned: plan.returns_usage,
        };
        let note = CreditNote::new(&invoice, &plan, &reason, operator.subject, now);
        let org = &invoice.organization_id;
        let refund = (plan.refund_cents > 0).then(|| {
            let key = format!("void-{}", invoice.id);
            let why = format!("Invoice {} voided: {reason}", invoice.number.as_deref().unwrap_or(&invoice.id));
            LedgerEntry::new(
                org,
                LedgerKind::Refund,
                plan.refund_cents,
                key,
                why,
                format!("operator:{}", operator.subject),
                now,
            )
        });
        let before = serde_json::json!({ "status": invoice.status.as_str(), "amount_due_usd": dollars(invoice.amount_due_cents) });
        let after = serde_json::json!({
            "status": "void",
            "usage_returned": plan.returns_usage,
            "written_off_usd": dollars(plan.written_off_cents),
            "refunded_credits_usd": dollars(plan.refund_cents),
            "invoice_id": invoice.id,
        });
        let audit = AuditEntry::new(org, operator.subject, "invoice_voided", &reason, (before, after), now);
        let event = Envelope::new(
            format!("invoice-voided-{}", invoice.id),
            org,
            now,
            DomainEvent::InvoiceVoided {
                invoice_id: invoice.id.clone(),
                invoice_number: invoice.number.clone(),
                usage_returned: plan.returns_usage,
                written_off_usd: dollars(plan.written_off_cents),
                refunded_credits_usd: dollars(plan.refund_cents),
            },
        );
        let writes = VoidWrites {
            closure: &closure,
            credit_note: note.as_ref(),
            refund: refund.as_ref(),
            audit: &audit,
            event: &event,
        };
        if app.store.void_by_operator(&invoice, writes, now).await? {
            tracing::info!(org = %org, invoice_id = %invoice.id, operator = operator.subject, "invoice voided by an operator");
            invoice.status = InvoiceStatus::Void;
            invoice.closed_by_operator = Some(closure);
            credit_note = note;
            refunded_cents = plan.refund_cents;
            break;
        }
        invoice = read(app, invoice_id).await?;
        closable(&invoice, "void")?;
    }
    let Some(closure) = invoice.closed_by_operator.clone() else { return Err(InvoiceActionError::Busy) };
    let usage_returned = if closure.usage_returned { return_usage(app, &invoice).await? } else { 0 };
    lift_suspension(app, &invoice).await?;
    Ok(Closed { invoice, closure, credit_note, refunded_cents, usage_returned })
}

/// Hands every usage record the invoice still holds back to unbilled.
async fn return_usage(app: &App, invoice: &Invoice) -> Result<u32, StoreError> {
    let records = app.store.claimed_usage(&invoice.organization_id, &invoice.id).await?;
    let held: Vec<_> = records.into_iter().filter(|r| r.invoice_id.as_deref() == Some(invoice.id.as_str())).collect();
    // Owned per task: the stream's futures must be `Send` for every lifetime.
    let returned = futures::stream::iter(held)
        .map(|record| {
            let (store, invoice_id) = (app.store.clone(), invoice.id.clone());
            async move { store.return_usage(&record, &invoice_id).await }
        })
        .buffer_unordered(RETURNS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    let mut count = 0;
    for result in returned {
        count += u32::from(result?);
    }
    Ok(count)
}

/// A voided invoice no longer holds a non-payment suspension (by our id or Stripe's).
async fn lift_suspension(app: &App, invoice: &Invoice) -> Result<(), StoreError> {
    let org = &invoice.organization_id;
    crate::dunning::flow::suspension::lift_after_settlement(app, org, &invoice.id, "voided").await?;
    if let Some(stripe_id) = invoice.stripe_invoice_id.as_deref() {
        crate::dunning::flow::suspension::lift_after_settlement(app, org, stripe_id, "voided").await?;
    }
    Ok(())
}

/// Writes an unpaid invoice off as uncollectible: it stays payable, but no more reminders
/// or suspensions follow from it. A suspension it already caused stays until it is paid or
/// an operator lifts it.
pub async fn mark_uncollectible(
    app: &App,
    invoice_id: &str,
    operator: Operator<'_>,
    reason: Option<&str>,
) -> Result<Closed, InvoiceActionError> {
    let reason = checked_reason(reason)?;
    let mut invoice = read(app, invoice_id).await?;
    closable(&invoice, "uncollectible")?;
    if invoice.closed_by_operator.is_none()
        && let Some(stripe_id) = invoice.stripe_invoice_id.as_deref()
    {
        let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
        stripe.mark_uncollectible(stripe_id, &invoice.id).await?;
    }
    for attempt in 0..5 {
        if let Some(closure) = invoice.closed_by_operator.clone() {
            return Ok(Closed { invoice, closure, credit_note: None, refunded_cents: 0, usage_returned: 0 });
        }
        if attempt > 0 {
            crate::store::jittered_pause(attempt).await;
        }
        let now = app.now();
        let org = &invoice.organization_id;
        let closure = OperatorClosure {
            action: "uncollectible".into(),
            reason: reason.clone(),
            by: operator.subject.to_owned(),
            at: now,
            usage_returned: false,
        };
        let before = serde_json::json!({ "status": invoice.status.as_str(), "in_dunning": true });
        let after = serde_json::json!({ "status": "past_due", "uncollectible": true, "in_dunning": false, "invoice_id": invoice.id });
        let audit =
            AuditEntry::new(org, operator.subject, "invoice_marked_uncollectible", &reason, (before, after), now);
        let event = Envelope::new(
            format!("invoice-uncollectible-{}", invoice.id),
            org,
            now,
            DomainEvent::InvoiceMarkedUncollectible {
                invoice_id: invoice.id.clone(),
                invoice_number: invoice.number.clone(),
                amount_due_usd: dollars(invoice.amount_due_cents),
            },
        );
        if app.store.mark_uncollectible_by_operator(&invoice, &closure, &audit, &event, now).await? {
            tracing::info!(org = %org, invoice_id = %invoice.id, operator = operator.subject, "invoice written off by an operator");
            invoice.status = InvoiceStatus::PastDue;
            invoice.closed_by_operator = Some(closure.clone());
            return Ok(Closed { invoice, closure, credit_note: None, refunded_cents: 0, usage_returned: 0 });
        }
        invoice = read(app, invoice_id).await?;
        closable(&invoice, "uncollectible")?;
    }
    Err(InvoiceActionError::Busy)
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::invoicing::flow::actions::InvoiceActionError> for crate::error::ApiError {
    fn from(err: crate::invoicing::flow::actions::InvoiceActionError) -> Self {
        use crate::invoicing::flow::actions::InvoiceActionError as E;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::NotFound => Self::not_found("invoice_not_found", err.to_string()),
            E::NotOpen(_) => Self::Conflict { code: "invoice_not_open", detail: err.to_string() },
            E::PartlyPaid => Self::Conflict { code: "invoice_partly_paid", detail: err.to_string() },
            E::AlreadyClosed(_) => Self::Conflict { code: "invoice_already_closed", detail: err.to_string() },
            E::Busy => Self::TooManyRequests { code: "invoice_busy", detail: err.to_string(), retry_after_secs: 1 },
        }
    }
}
