//! Operators ending an invoice's collection: a void (with its credit note, the balance
//! credits it had applied returned, and its usage handed back to unbilled) and a write-off
//! as uncollectible. Each is one transaction with its audit entry and event, conditioned on
//! the invoice still being unpaid and not already closed by an operator, so a retried or
//! concurrent action applies once.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::invoicing::rules::void::CreditNote;
use crate::invoicing::rules::{Invoice, OperatorClosure};
use crate::operators::rules::audit::AuditEntry;
use crate::store::outbox::outbox_put;
use crate::store::{Retry, Store, StoreError, decode, encode, key_item, keys, retrying, timestamp, written};
use crate::usage::rules::{LedgerEntry, UsageRecord};
use crate::{
    dunning::store as dunning,
    invoicing::store::{build_err, invoice_key, n, s, unbilled_partition},
};

fn put_new(table: &str, item: crate::store::Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(build_err)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The invoice moves to `status` with the operator's closure, if still unpaid, unpaid-for and
/// not closed by an operator before.
fn close_invoice(
    table: &str,
    invoice: &Invoice,
    status: &str,
    closure: &OperatorClosure,
    now: DateTime<Utc>,
) -> Result<Update, StoreError> {
    let closure = serde_dynamo::to_attribute_value(closure).map_err(StoreError::Encode)?;
    Update::builder()
        .table_name(table)
        .set_key(Some(key_item(&invoice_key(invoice))))
        .update_expression("SET #status = :to, closed_by_operator = :closure, updated_at = :now")
        .condition_expression(
            "#status IN (:open, :past_due) AND amount_paid_cents = :zero AND attribute_not_exists(closed_by_operator)",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":to", s(status))
        .expression_attribute_values(":closure", closure)
        .expression_attribute_values(":now", s(timestamp(now)))
        .expression_attribute_values(":open", s("open"))
        .expression_attribute_values(":past_due", s("past_due"))
        .expression_attribute_values(":zero", n(0))
        .build()
        .map_err(build_err)
}

/// What a void writes besides the invoice.
pub struct VoidWrites<'a> {
    pub closure: &'a OperatorClosure,
    pub credit_note: Option<&'a CreditNote>,
    /// The ledger entry returning balance credits, and the amount.
    pub refund: Option<&'a LedgerEntry>,
    pub audit: &'a AuditEntry,
    pub event: &'a Envelope,
}

impl Store {
    /// The organization's most recent credit notes (at most `limit`), newest first.
    pub async fn recent_credit_notes(&self, org: &OrganizationId, limit: i32) -> Result<Vec<CreditNote>, StoreError> {
        let pk = keys::org_partition(org);
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :note)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":note", AttributeValue::S("CREDITNOTE#".into()))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", e))?;
        let mut notes = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let sk = item.get("SK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                decode(&keys::Key { pk: pk.clone(), sk }, item)
            })
            .collect::<Result<Vec<CreditNote>, StoreError>>()?;
        notes.sort_by_key(|note| std::cmp::Reverse(note.created_at));
        Ok(notes)
    }

    /// Voids the invoice with everything the void writes; `false` when it was paid, voided or
    /// closed meanwhile. The invoice leaves the dunning list in the same transaction.
    pub async fn void_by_operator(
        &self,
        invoice: &Invoice,
        writes: VoidWrites<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let table = self.table();
        let mut items = vec![
            TransactWriteItem::builder().update(close_invoice(table, invoice, "void", writes.closure, now)?).build(),
            TransactWriteItem::builder()
                .delete(dunning::dunning_delete(table, &invoice.organization_id, &invoice.id)?)
                .build(),
            put_new(table, encode(writes.audit)?)?,
            TransactWriteItem::builder().put(outbox_put(table, writes.event, now)?).build(),
        ];
        if let Some(note) = writes.credit_note {
            items.push(put_new(table, encode(note)?)?);
        }
        if let Some(refund) = writes.refund {
            let account = Update::builder()
                .table_name(table)
                .set_key(Some(key_item(&keys::account(&invoice.organization_id))))
                .update_expression("ADD credit_balance_cents :refund, version :one SET updated_at = :now")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":refund", n(refund.amount_cents))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", s(timestamp(now)))
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().update(account).build());
            items.push(put_new(table, encode(refund)?)?);
        }
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Hands a usage record of a voided invoice back to unbilled (into the unbilled index at
    /// its recorded time), if that invoice still holds it. `false` when it does not.
    pub async fn return_usage(&self, record: &UsageRecord, invoice_id: &str) -> Result<bool, StoreError> {
        let key = keys::Key { pk: record.pk.clone(), sk: record.sk.clone() };
        let recorded = record.recorded_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        retrying(|| async {
            let sent = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .update_expression("SET billed = :no, GSI2PK = :unbilled, GSI2SK = :at REMOVE invoice_id, billed_at")
                .condition_expression("invoice_id = :inv")
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .expression_attribute_values(":unbilled", s(unbilled_partition(&record.organization_id)))
                .expression_attribute_values(":at", s(recorded.clone()))
                .expression_attribute_values(":inv", s(invoice_id))
                .send()
                .await;
            written("UpdateItem", sent)
        })
        .await
    }

    /// Writes the invoice off as uncollectible: it stays payable (`past_due`) but leaves the
    /// dunning list, so no more reminders or suspension follow. `false` when it was paid or
    /// closed meanwhile.
    pub async fn mark_uncollectible_by_operator(
        &self,
        invoice: &Invoice,
        closure: &OperatorClosure,
        audit: &AuditEntry,
        event: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let table = self.table();
        let items = vec![
            TransactWriteItem::builder().update(close_invoice(table, invoice, "past_due", closure, now)?).build(),
            TransactWriteItem::builder()
                .delete(dunning::dunning_delete(table, &invoice.organization_id, &invoice.id)?)
                .build(),
            put_new(table, encode(audit)?)?,
            TransactWriteItem::builder().put(outbox_put(table, event, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }
}
