//! Operators' actions on an account. Each is audited (who, why, before and after) in the same
//! transaction as the change, and refused without a reason.

pub mod directory;
pub mod health;
pub mod redrive;

use crate::App;
use crate::accounts::rules::limits::{LimitOverrides, LimitsInForce};
use crate::events::{DomainEvent, Envelope};
use crate::ids::OrganizationId;
use crate::money::{Cents, dollars};
use crate::operators::rules::audit::{AuditEntry, ReasonError, checked_reason};
use crate::operators::store::{SUSPENDED_BY_OPERATOR, Standing};
use crate::store::StoreError;
use crate::usage::rules::{LedgerEntry, LedgerKind};

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
    Override(#[from] crate::accounts::rules::limits::OverrideError),
    #[error("amount_usd must not be zero.")]
    ZeroAmount,
    #[error(
        "The available balance ({available}) does not cover removing {removed}: credits held by running workflows stay."
    )]
    BelowHolds { available: rust_decimal::Decimal, removed: rust_decimal::Decimal },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    List(#[from] crate::costs::store::ListError),
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

/// A grant's result: the change and the balances after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub amount_cents: Cents,
    pub available_cents: Cents,
    pub held_cents: Cents,
    pub ledger_entry_id: String,
    /// `false` when the key had been used: nothing changed this time.
    pub applied: bool,
}

/// Grants credits (or, negative, removes them) once per `key`, with a ledger entry (kind
/// `grant`, the operator as actor, the reason) and an audit entry. A removal may not take the
/// balance below what open holds reserve.
pub async fn grant_credits(
    app: &App,
    org: &OrganizationId,
    operator: Operator<'_>,
    amount_cents: Cents,
    key: &str,
    reason: Option<&str>,
) -> Result<Granted, AdminError> {
    let reason = checked_reason(reason)?;
    if amount_cents == 0 {
        return Err(AdminError::ZeroAmount);
    }
    for _ in 0..ATTEMPTS {
        if let Some(done) = app.store.grant_by_key(org, key).await? {
            let account = app.store.get_account(org).await?.ok_or(AdminError::NoAccount)?;
            return Ok(Granted {
                amount_cents: done.amount_cents,
                available_cents: account.credit_balance_cents,
                held_cents: account.credit_held_cents,
                ledger_entry_id: done.ledger_entry_id,
                applied: false,
            });
        }
        let account = app.store.get_account(org).await?.ok_or(AdminError::NoAccount)?;
        if amount_cents < 0 && account.credit_balance_cents < -amount_cents {
            return Err(AdminError::BelowHolds {
                available: dollars(account.credit_balance_cents),
                removed: dollars(-amount_cents),
            });
        }
        let now = app.now();
        let actor = format!("operator:{}", operator.subject);
        let ledger =
            LedgerEntry::new(org, LedgerKind::Grant, amount_cents, format!("grant-{key}"), &reason, actor, now);
        let balances = |available: Cents| serde_json::json!({ "available_usd": dollars(available), "held_usd": dollars(account.credit_held_cents) });
        let before_after =
            (balances(account.credit_balance_cents), balances(account.credit_balance_cents + amount_cents));
        let action = if amount_cents > 0 { "credits_granted" } else { "credits_removed" };
        let entry = AuditEntry::new(org, operator.subject, action, &reason, before_after, now);
        if app.store.grant_credits(org, amount_cents, key, &ledger, &entry, now).await? {
            tracing::info!(org = %org, operator = operator.subject, amount_cents, "credits changed by an operator");
            return Ok(Granted {
                amount_cents,
                available_cents: account.credit_balance_cents + amount_cents,
                held_cents: account.credit_held_cents,
                ledger_entry_id: ledger.id,
                applied: true,
            });
        }
        // The key was used meanwhile, or the balance moved (a run took credits): look again.
    }
    Err(AdminError::Busy)
}

/// Replaces the account's limit overrides (an absent limit goes back to the tier's).
pub async fn set_limits(
    app: &App,
    org: &OrganizationId,
    operator: Operator<'_>,
    overrides: LimitOverrides,
    reason: Option<&str>,
) -> Result<(crate::accounts::rules::Account, LimitsInForce), AdminError> {
    let reason = checked_reason(reason)?;
    for _ in 0..ATTEMPTS {
        let mut account = app.store.get_account(org).await?.ok_or(AdminError::NoAccount)?;
        let catalog = app.catalog();
        let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
        let now = app.now();
        crate::accounts::rules::limits::check(tier, &overrides, now)?;
        let before = serde_json::to_value(account.limit_overrides).unwrap_or_default();
        let after = serde_json::to_value(overrides).unwrap_or_default();
        let entry = AuditEntry::new(org, operator.subject, "limits_overridden", &reason, (before, after), now);
        if app.store.set_limit_overrides(org, account.version, &overrides, &entry, now).await? {
            tracing::info!(org = %org, operator = operator.subject, "limit overrides set by an operator");
            account.limit_overrides = overrides;
            let limits = crate::accounts::rules::limits::in_force(tier, &overrides, now);
            return Ok((account, limits));
        }
    }
    Err(AdminError::Busy)
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::operators::flow::AdminError> for crate::error::ApiError {
    fn from(err: crate::operators::flow::AdminError) -> Self {
        use crate::operators::flow::AdminError as E;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::List(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::NoAccount => Self::not_found("account_not_found", err.to_string()),
            E::AlreadySuspended => Self::Conflict { code: "already_suspended", detail: err.to_string() },
            E::NotSuspended => Self::Conflict { code: "not_suspended", detail: err.to_string() },
            E::Busy => Self::TooManyRequests { code: "account_busy", detail: err.to_string(), retry_after_secs: 1 },
            E::ZeroAmount => Self::bad_request("invalid_amount", err.to_string()),
            E::Override(crate::accounts::rules::limits::OverrideError::Expired(_)) => {
                Self::bad_request("invalid_expiry", err.to_string())
            }
            E::Override(_) => Self::Conflict { code: "limit_not_overridable", detail: err.to_string() },
            E::BelowHolds { .. } => Self::Conflict { code: "insufficient_credits", detail: err.to_string() },
        }
    }
}
