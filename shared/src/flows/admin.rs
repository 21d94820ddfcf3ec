//! Operators' actions on an account. Each is audited (who, why, before and after) in the same
//! transaction as the change, and refused without a reason.

use crate::App;
use crate::domain::OrganizationId;
use crate::domain::audit::{AuditEntry, ReasonError, checked_reason};
use crate::events::{DomainEvent, Envelope};
use crate::store::StoreError;
use crate::store::admin::{SUSPENDED_BY_OPERATOR, Standing};

/// Attempts at a change whose condition keeps failing because the account keeps changing.
const ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Reason(#[from] ReasonError),
    #[error("The organization has no billing account.")]
    NoAccount,
    #[error("The account is already suspended by an operator.")]
    AlreadySuspended,
    #[error("The account is not suspended.")]
    NotSuspended,
    #[error("The account kept changing; retry.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who acts: the subject of the operator's token.
#[derive(Debug, Clone, Copy)]
pub struct Operator<'a> {
    pub subject: &'a str,
}

/// Suspends the account until an operator lifts it; a payment does not. A suspension for
/// non-payment becomes the operator's (so paying no longer lifts it).
pub async fn suspend(
    app: &App,
    org: &OrganizationId,
    operator: Operator<'_>,
    reason: Option<&str>,
) -> Result<Standing, AdminError> {
    let reason = checked_reason(reason)?;
    for _ in 0..ATTEMPTS {
        let read = app.store.standing(org).await?.ok_or(AdminError::NoAccount)?;
        if read.is_operator_suspension() {
            return Err(AdminError::AlreadySuspended);
        }
        let after = Standing {
            status: "suspended".into(),
            suspension_reason: Some(SUSPENDED_BY_OPERATOR.into()),
            suspension_note: Some(reason.clone()),
            suspended_invoice_id: None,
        };
        let now = app.now();
        let entry = AuditEntry::new(
            org,
            operator.subject,
            "account_suspended",
            &reason,
            (read.to_json(), after.to_json()),
            now,
        );
        let event = Envelope::new(
            format!("suspended-operator-{}", entry.id),
            org,
            now,
            DomainEvent::AccountSuspended {
                reason: reason.clone(),
                suspension_reason: Some(SUSPENDED_BY_OPERATOR.into()),
                invoice_id: None,
            },
        );
        if app.store.suspend_by_operator(org, &read, &reason, &entry, &event, now).await? {
            tracing::info!(org = %org, operator = operator.subject, "account suspended by an operator");
            return Ok(after);
        }
    }
    Err(AdminError::Busy)
}

/// Lifts any suspension, a non-payment one included (the operator takes responsibility; the
/// overdue invoice stays open and payable).
pub async fn unsuspend(
    app: &App,
    org: &OrganizationId,
    operator: Operator<'_>,
    reason: Option<&str>,
) -> Result<Standing, AdminError> {
    let reason = checked_reason(reason)?;
    for _ in 0..ATTEMPTS {
        let read = app.store.standing(org).await?.ok_or(AdminError::NoAccount)?;
        if !read.is_suspended() {
            return Err(AdminError::NotSuspended);
        }
        let after = Standing {
            status: "active".into(),
            suspension_reason: None,
            suspension_note: None,
            suspended_invoice_id: None,
        };
        let now = app.now();
        let entry = AuditEntry::new(
            org,
            operator.subject,
            "account_unsuspended",
            &reason,
            (read.to_json(), after.to_json()),
            now,
        );
        let event = Envelope::new(
            format!("reactivated-operator-{}", entry.id),
            org,
            now,
            DomainEvent::AccountReactivated { reason: reason.clone() },
        );
        if app.store.unsuspend_by_operator(org, &read, &entry, &event, now).await? {
            tracing::info!(org = %org, operator = operator.subject, "account unsuspended by an operator");
            return Ok(after);
        }
    }
    Err(AdminError::Busy)
}
