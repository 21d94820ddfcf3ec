//! Suspending an account for an unpaid invoice and lifting that suspension once nothing
//! unpaid holds it, shared by the Stripe processor (failed payments, paid and voided
//! invoices), the pay route and the overdue job (`flows::dunning`). The rules are in
//! `store::suspension`.

use crate::App;
use crate::dunning::store::suspension::{Holder, NonPayment};
use crate::events::{DomainEvent, Envelope};
use crate::ids::OrganizationId;
use crate::store::StoreError;

/// What settling an invoice did to the account's suspension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifted {
    /// The account is not suspended.
    NotSuspended,
    /// Suspended for a reason a payment does not lift (an operator's).
    OtherReason,
    /// Another unpaid invoice still suspends the account; it holds the suspension now.
    StillHeld(String),
    /// Reactivated (`false`: someone else changed the account first).
    Reactivated(bool),
}

/// Suspends the account for `invoice_id` with its `AccountSuspended` event; `false` when the
/// account was already suspended or the invoice is no longer unpaid.
pub async fn suspend(
    app: &App,
    org: &OrganizationId,
    invoice_id: &str,
    cause: NonPayment,
    event_id: String,
    reason: String,
) -> Result<bool, StoreError> {
    let suspended = Envelope::new(
        event_id,
        org,
        app.now(),
        DomainEvent::AccountSuspended {
            reason,
            suspension_reason: Some(cause.reason().to_owned()),
            invoice_id: Some(invoice_id.to_owned()),
        },
    );
    let done = app.store.suspend_for_invoice(org, invoice_id, cause, &suspended, app.now()).await?;
    tracing::info!(org = %org, invoice_id, reason = cause.reason(), suspended = done, "suspension for non-payment");
    Ok(done)
}

/// After `settled_invoice` was paid or voided (`how`): reactivates the account if it was
/// suspended for non-payment and no other invoice would suspend it on its own (failed too
/// often, or overdue long enough); otherwise that invoice holds the suspension from now on.
/// A suspension for another reason stays.
pub async fn lift_after_settlement(
    app: &App,
    org: &OrganizationId,
    settled_invoice: &str,
    how: &str,
) -> Result<Lifted, StoreError> {
    let Some(current) = app.store.suspension(org).await? else { return Ok(Lifted::NotSuspended) };
    if !current.is_suspended() {
        return Ok(Lifted::NotSuspended);
    }
    if current.non_payment().is_none() {
        tracing::info!(org = %org, invoice_id = settled_invoice, reason = current.suspension_reason.as_deref().unwrap_or("-"), "account suspended for another reason; a payment does not lift it");
        return Ok(Lifted::OtherReason);
    }
    let held_by = current.suspended_invoice_id.unwrap_or_default();
    let overdue_due_by = (app.now() - chrono::Duration::days(app.config.dunning.suspend_after_days())).timestamp();
    let holders =
        app.store.suspension_holders(org, app.config.failed_payments_before_suspension, overdue_due_by).await?;
    if let Some(other) = holders.first() {
        let moved = !holders.iter().any(|h: &Holder| h.invoice_id == held_by)
            && app.store.transfer_suspension(org, &held_by, other).await?;
        tracing::info!(org = %org, invoice_id = settled_invoice, unpaid_invoice = %other.invoice_id, reason = other.cause.reason(), moved, "still suspended: another invoice is unpaid");
        return Ok(Lifted::StillHeld(other.invoice_id.clone()));
    }
    let reactivated = Envelope::new(
        format!("reactivated-{settled_invoice}"),
        org,
        app.now(),
        DomainEvent::AccountReactivated { reason: format!("invoice {settled_invoice} {how}") },
    );
    let lifted = app.store.reactivate_after_payment(org, &held_by, &reactivated, app.now()).await?;
    tracing::info!(org = %org, invoice_id = settled_invoice, lifted, "non-payment suspension lifted");
    Ok(Lifted::Reactivated(lifted))
}
