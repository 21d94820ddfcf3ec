//! Operators' changes to an account, each in one transaction with its audit entry (and its
//! outbox event where one is announced), and the audit trail's listing.
//!
//! An operator's suspension is `suspension_reason = operator` with the reason in
//! `suspension_note`; a payment never lifts it (only non-payment reasons are lifted by paying).
//! Lifting one by an operator lifts any suspension, non-payment ones included.

pub mod directory;
pub mod operations;
pub mod schedules;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::accounts::rules::limits::LimitOverrides;
use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::money::Cents;
use crate::operators::rules::audit::{AUDIT_PREFIX, AuditEntry};
use crate::store::cursor::{ListKind, ListQuery};
use crate::store::outbox::outbox_put;
use crate::store::paging::{ListError, Listing, Order, Page};
use crate::store::{Retry, Store, StoreError, encode, key_item, keys, timestamp};
use crate::usage::rules::LedgerEntry;

/// `suspension_reason` of an account an operator suspended.
pub const SUSPENDED_BY_OPERATOR: &str = "operator";

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// What an operator sees of an account's standing before changing it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Standing {
    pub status: String,
    #[serde(default)]
    pub suspension_reason: Option<String>,
    #[serde(default)]
    pub suspension_note: Option<String>,
    #[serde(default)]
    pub suspended_invoice_id: Option<String>,
}

impl Standing {
    pub fn is_suspended(&self) -> bool {
        self.status == "suspended"
    }

    pub fn is_operator_suspension(&self) -> bool {
        self.is_suspended() && self.suspension_reason.as_deref() == Some(SUSPENDED_BY_OPERATOR)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": self.status,
            "suspension_reason": self.suspension_reason,
            "suspension_note": self.suspension_note,
            "suspended_invoice_id": self.suspended_invoice_id,
        })
    }
}

fn grant_sk(key: &str) -> String {
    format!("GRANT#{key}")
}

/// `ORG#<org>` / `GRANT#<idempotency key>`: an operator's grant happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct GrantKey {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub ledger_entry_id: String,
    pub amount_cents: Cents,
}

fn audit_put(table: &str, entry: &AuditEntry) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(encode(entry)?))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(build_err)
}

/// The account's reason as read: the write applies only if it is still the same.
fn unchanged_reason(
    update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    read: &Standing,
) -> (String, aws_sdk_dynamodb::types::builders::UpdateBuilder) {
    match &read.suspension_reason {
        Some(reason) => (
            "suspension_reason = :read_reason".to_owned(),
            update.expression_attribute_values(":read_reason", s(reason)),
        ),
        None => ("attribute_not_exists(suspension_reason)".to_owned(), update),
    }
}

impl Store {
    pub async fn standing(&self, org: &OrganizationId) -> Result<Option<Standing>, StoreError> {
        self.get_item(keys::account(org)).await
    }

    /// Suspends the account as an operator (or turns a non-payment suspension into one), with
    /// its audit entry and `AccountSuspended`; only if the standing is still what was read.
    /// `false` when it changed meanwhile.
    pub async fn suspend_by_operator(
        &self,
        org: &OrganizationId,
        read: &Standing,
        note: &str,
        entry: &AuditEntry,
        event: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression(
                "SET #s = :suspended, suspension_reason = :operator, suspension_note = :note, updated_at = :now \
                 REMOVE suspended_invoice_id ADD version :one",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":suspended", s("suspended"))
            .expression_attribute_values(":operator", s(SUSPENDED_BY_OPERATOR))
            .expression_attribute_values(":note", s(note))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":read_status", s(&read.status));
        let (reason_check, update) = unchanged_reason(update, read);
        let update = update
            .condition_expression(format!("attribute_exists(PK) AND #s = :read_status AND {reason_check}"))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(audit_put(self.table(), entry)?).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), event, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Lifts any suspension as an operator, with its audit entry and `AccountReactivated`;
    /// only if the suspension is still the one read. `false` when it changed meanwhile.
    pub async fn unsuspend_by_operator(
        &self,
        org: &OrganizationId,
        read: &Standing,
        entry: &AuditEntry,
        event: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression(
                "SET #s = :active, updated_at = :now \
                 REMOVE suspension_reason, suspension_note, suspended_invoice_id ADD version :one",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":active", s("active"))
            .expression_attribute_values(":suspended", s("suspended"))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        let (reason_check, update) = unchanged_reason(update, read);
        let update =
            update.condition_expression(format!("#s = :suspended AND {reason_check}")).build().map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(audit_put(self.table(), entry)?).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), event, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Grants (or, negative, removes) credits with their ledger entry and audit entry, once
    /// per operator's key (`ORG#<org>/GRANT#<key>`, kept). A removal applies only while the
    /// available balance covers it, so the total never falls below what open holds reserve.
    /// `false` when a condition failed: the key was used, or the balance does not cover it.
    pub async fn grant_credits(
        &self,
        org: &OrganizationId,
        amount_cents: Cents,
        key: &str,
        ledger: &LedgerEntry,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression("ADD credit_balance_cents :amount, version :one SET updated_at = :now")
            .expression_attribute_values(":amount", AttributeValue::N(amount_cents.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":now", s(timestamp(now)));
        update = if amount_cents < 0 {
            update
                .condition_expression("attribute_exists(PK) AND credit_balance_cents >= :removed")
                .expression_attribute_values(":removed", AttributeValue::N((-amount_cents).to_string()))
        } else {
            update.condition_expression("attribute_exists(PK)")
        };
        let once = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(&GrantKey {
                pk: keys::org_partition(org),
                sk: grant_sk(key),
                ledger_entry_id: ledger.id.clone(),
                amount_cents,
            })?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let ledger_put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(ledger)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(once).build(),
            TransactWriteItem::builder().update(update.build().map_err(build_err)?).build(),
            TransactWriteItem::builder().put(ledger_put).build(),
            TransactWriteItem::builder().put(audit_put(self.table(), entry)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Replaces the account's limit overrides, with the audit entry, if the account is still
    /// at the version read. `false` when it changed meanwhile.
    pub async fn set_limit_overrides(
        &self,
        org: &OrganizationId,
        read_version: u64,
        overrides: &LimitOverrides,
        entry: &AuditEntry,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .condition_expression("version = :read")
            .expression_attribute_values(":read", AttributeValue::N(read_version.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":now", s(timestamp(now)));
        let update = if overrides.is_empty() {
            update.update_expression("REMOVE limit_overrides SET updated_at = :now ADD version :one")
        } else {
            let value = serde_dynamo::to_attribute_value(overrides).map_err(StoreError::Encode)?;
            update
                .update_expression("SET limit_overrides = :overrides, updated_at = :now ADD version :one")
                .expression_attribute_values(":overrides", value)
        };
        let items = vec![
            TransactWriteItem::builder().update(update.build().map_err(build_err)?).build(),
            TransactWriteItem::builder().put(audit_put(self.table(), entry)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// The grant an operator's key already made, if any.
    pub async fn grant_by_key(&self, org: &OrganizationId, key: &str) -> Result<Option<GrantKey>, StoreError> {
        self.get_item(keys::Key { pk: keys::org_partition(org), sk: grant_sk(key) }).await
    }

    /// The organization's audit trail, newest first.
    pub async fn list_audit(&self, org: &OrganizationId, listing: &Listing) -> Result<Page<AuditEntry>, ListError> {
        let query = ListQuery::new(ListKind::Audit, org, listing.from, listing.to, None);
        self.decoded_page(AUDIT_PREFIX, None, &query, listing, Order::NewestFirst).await
    }

    /// An audit trail outside any organization (a flag's, a queue's), newest first.
    pub async fn list_platform_audit(
        &self,
        partition: String,
        listing: &Listing,
    ) -> Result<Page<AuditEntry>, ListError> {
        let query = ListQuery::platform_audit(partition, listing.from, listing.to);
        self.decoded_page(AUDIT_PREFIX, None, &query, listing, Order::NewestFirst).await
    }
}
