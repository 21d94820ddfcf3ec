//! Suspension for non-payment, and lifting it: the account item's `status`,
//! `suspension_reason` and `suspended_invoice_id`.
//!
//! Two causes count as non-payment ([`NonPayment`]): a Stripe invoice whose payment failed
//! `SUSPEND_AFTER_FAILED_PAYMENTS` times (`payment_failed`), and a usage invoice still unpaid
//! `SUSPEND_AFTER_DAYS_OVERDUE` days after its due date (`invoice_overdue`). A suspension is
//! written in one transaction with its `AccountSuspended` outbox item and a check that the
//! invoice is still unpaid (its failed state, or its dunning item, which paying deletes). A
//! payment lifts only a non-payment suspension, only when no other invoice would suspend the
//! account on its own ([`Store::suspension_holders`]); otherwise the suspension moves to that
//! invoice. A suspension for any other reason (an operator's) is never lifted by a payment.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::dunning::store::dunning_key;
use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::store::outbox::outbox_put;
use crate::store::{Retry, Store, StoreError, key_item, keys, retrying, timestamp, written};
use crate::stripe_events::store::{INVOICE_FAILED, invoice_state_key};

/// `suspension_reason` of an account suspended because a payment failed too often.
pub const SUSPENDED_FOR_PAYMENT: &str = "payment_failed";
/// `suspension_reason` of an account suspended because an invoice stayed unpaid too long.
pub const SUSPENDED_FOR_OVERDUE: &str = "invoice_overdue";

/// Why an unpaid invoice suspends an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonPayment {
    PaymentFailed,
    InvoiceOverdue,
}

impl NonPayment {
    pub const ALL: [Self; 2] = [Self::PaymentFailed, Self::InvoiceOverdue];

    pub fn reason(self) -> &'static str {
        match self {
            Self::PaymentFailed => SUSPENDED_FOR_PAYMENT,
            Self::InvoiceOverdue => SUSPENDED_FOR_OVERDUE,
        }
    }

    pub fn from_reason(reason: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.reason() == reason)
    }
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The account's status as far as suspension goes (read from the account item).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Suspension {
    pub status: String,
    #[serde(default)]
    pub suspension_reason: Option<String>,
    #[serde(default)]
    pub suspended_invoice_id: Option<String>,
}

impl Suspension {
    pub fn is_suspended(&self) -> bool {
        self.status == "suspended"
    }

    /// The non-payment cause of the suspension; `None` when active or suspended otherwise.
    pub fn non_payment(&self) -> Option<NonPayment> {
        self.suspension_reason.as_deref().filter(|_| self.is_suspended()).and_then(NonPayment::from_reason)
    }
}

/// An unpaid invoice that would suspend the account on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub invoice_id: String,
    pub cause: NonPayment,
}

impl Store {
    /// The account's status and, when suspended for non-payment, the invoice holding it.
    pub async fn suspension(&self, org: &OrganizationId) -> Result<Option<Suspension>, StoreError> {
        self.get_item(keys::account(org)).await
    }

    /// Suspends the account for an unpaid invoice, with its `AccountSuspended` outbox event,
    /// in one transaction: only while the invoice is still unpaid and the account is not
    /// already suspended. For an overdue invoice the same write settles its dunning step.
    /// `true` when it was suspended now.
    pub async fn suspend_for_invoice(
        &self,
        org: &OrganizationId,
        invoice_id: &str,
        cause: NonPayment,
        suspended: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let account = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression(
                "SET #s = :suspended, suspension_reason = :reason, suspended_invoice_id = :inv, updated_at = :now \
                 ADD version :one",
            )
            .condition_expression("attribute_exists(PK) AND #s <> :suspended")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":suspended", s("suspended"))
            .expression_attribute_values(":reason", s(cause.reason()))
            .expression_attribute_values(":inv", s(invoice_id))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_err)?;
        let still_unpaid = match cause {
            NonPayment::PaymentFailed => TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(self.table())
                        .set_key(Some(key_item(&invoice_state_key(org, invoice_id))))
                        .condition_expression("#st = :failed")
                        .expression_attribute_names("#st", "status")
                        .expression_attribute_values(":failed", s(INVOICE_FAILED))
                        .build()
                        .map_err(build_err)?,
                )
                .build(),
            // Paying or voiding the invoice deletes its dunning item.
            NonPayment::InvoiceOverdue => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(self.table())
                        .set_key(Some(key_item(&dunning_key(org, invoice_id))))
                        .update_expression("SET suspension_settled = :yes, updated_at = :now")
                        .condition_expression("attribute_exists(PK)")
                        .expression_attribute_values(":yes", AttributeValue::Bool(true))
                        .expression_attribute_values(":now", s(timestamp(now)))
                        .build()
                        .map_err(build_err)?,
                )
                .build(),
        };
        let items = vec![
            TransactWriteItem::builder().update(account).build(),
            still_unpaid,
            TransactWriteItem::builder().put(outbox_put(self.table(), suspended, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Every unpaid invoice that would suspend the account on its own: Stripe invoices with
    /// at least `failed_attempts` failed payments, then usage invoices due at or before
    /// `overdue_due_by` (a Unix second: now minus the days after which they suspend).
    pub async fn suspension_holders(
        &self,
        org: &OrganizationId,
        failed_attempts: u32,
        overdue_due_by: i64,
    ) -> Result<Vec<Holder>, StoreError> {
        let (failed, overdue) =
            tokio::try_join!(self.failed_invoices(org, failed_attempts), self.overdue_invoices(org, overdue_due_by))?;
        let holder = |cause| move |invoice_id| Holder { invoice_id, cause };
        Ok(failed
            .into_iter()
            .map(holder(NonPayment::PaymentFailed))
            .chain(overdue.into_iter().map(holder(NonPayment::InvoiceOverdue)))
            .collect())
    }

    /// Lifts a non-payment suspension held by `held_by`, with its `AccountReactivated` outbox
    /// event, in one transaction. A suspension for any other reason is never lifted here.
    pub async fn reactivate_after_payment(
        &self,
        org: &OrganizationId,
        held_by: &str,
        reactivated: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let account = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression(
                "SET #s = :active, updated_at = :now REMOVE suspension_reason, suspended_invoice_id ADD version :one",
            )
            .condition_expression(
                "#s = :suspended AND suspension_reason IN (:failed, :overdue) AND suspended_invoice_id = :inv",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":suspended", s("suspended"))
            .expression_attribute_values(":failed", s(SUSPENDED_FOR_PAYMENT))
            .expression_attribute_values(":overdue", s(SUSPENDED_FOR_OVERDUE))
            .expression_attribute_values(":inv", s(held_by))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(account).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), reactivated, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Hands a non-payment suspension from a settled invoice to another unpaid one (with its
    /// cause), so settling the first does not reactivate an account the second still holds.
    pub async fn transfer_suspension(&self, org: &OrganizationId, from: &str, to: &Holder) -> Result<bool, StoreError> {
        let key = keys::account(org);
        retrying(|| async {
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .update_expression("SET suspended_invoice_id = :to, suspension_reason = :reason ADD version :one")
                .condition_expression(
                    "#s = :suspended AND suspension_reason IN (:failed, :overdue) AND suspended_invoice_id = :from",
                )
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":suspended", s("suspended"))
                .expression_attribute_values(":failed", s(SUSPENDED_FOR_PAYMENT))
                .expression_attribute_values(":overdue", s(SUSPENDED_FOR_OVERDUE))
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to.invoice_id.as_str()))
                .expression_attribute_values(":reason", s(to.cause.reason()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .send()
                .await;
            written("UpdateItem", result)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_non_payment_causes_are_recognised_and_nothing_else_is() {
        for cause in NonPayment::ALL {
            assert_eq!(NonPayment::from_reason(cause.reason()), Some(cause));
        }
        let suspended = |reason: Option<&str>| Suspension {
            status: "suspended".into(),
            suspension_reason: reason.map(str::to_owned),
            suspended_invoice_id: Some("inv_1".into()),
        };
        assert_eq!(suspended(Some("invoice_overdue")).non_payment(), Some(NonPayment::InvoiceOverdue));
        assert_eq!(suspended(Some("payment_failed")).non_payment(), Some(NonPayment::PaymentFailed));
        assert_eq!(suspended(Some("fraud_review")).non_payment(), None, "an operator's reason");
        assert_eq!(suspended(None).non_payment(), None);
        let active = Suspension { status: "active".into(), ..suspended(Some("payment_failed")) };
        assert_eq!(active.non_payment(), None);
    }
}
