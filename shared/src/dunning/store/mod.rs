//! The dunning list: unpaid usage invoices, how far chasing each has got, and when each next
//! needs attention.
//!
//! | Item | PK | SK | Index |
//! |---|---|---|---|
//! | Dunning state | `ORG#<org>` | `DUNNING#<invoice>` | GSI3 `DUNNING#<shard>` / next attention (Unix second) |
//!
//! A usage invoice issued with something to pay gets this small item in the transaction that
//! issues it; the transaction that marks it paid or void deletes it. So the overdue job reads
//! the work index (`store::work_index`: 16 shards, entries due by now) and one small item per
//! invoice due — never the invoice item itself (up to a few hundred KB), never a scan, and no
//! index key shared by every account. Each step is a conditional write on this item: the
//! past-due mark (`past_due`), every reminder offset (`reminders.<offset>`) and the
//! suspension step (`suspension_settled`) happen once, however often or concurrently the job
//! runs. After its steps the entry moves to its next attention time, or leaves the index.
//!
//! Invoices issued before this item existed have none: they are never chased (see README).

pub mod suspension;

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::dunning::rules::{self as dunning, DunningPolicy, Progress, ReminderOutcome};
use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::invoicing::rules::{Invoice, InvoiceSource, InvoiceStatus};
use crate::invoicing::store::build_err;
use crate::money::Cents;
use crate::store::outbox::outbox_put;
use crate::store::paging::Reach;
use crate::store::work_index::{self, SHARDS};
use crate::store::{Retry, Store, StoreError, encode, key_item, keys, retrying, timestamp, written};

const DUNNING_PREFIX: &str = "DUNNING#";

pub fn dunning_key(org: &OrganizationId, invoice_id: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: format!("{DUNNING_PREFIX}{invoice_id}") }
}

/// What happened to one reminder offset, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderMark {
    pub outcome: ReminderOutcome,
    pub at: DateTime<Utc>,
}

/// `ORG#<org>` / `DUNNING#<invoice>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    pub index_pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    pub index_sk: Option<String>,
    pub organization_id: OrganizationId,
    pub invoice_id: String,
    /// Where the invoice item is (its sort key in the organization's partition).
    pub invoice_sk: String,
    #[serde(default)]
    pub invoice_number: Option<String>,
    pub amount_due_cents: Cents,
    pub due_date: DateTime<Utc>,
    /// The due date as a Unix second, for conditions and filters.
    pub due_at: i64,
    #[serde(default)]
    pub hosted_invoice_url: Option<String>,
    /// By reminder offset in days (`"-3"`, `"0"`, …).
    #[serde(default)]
    pub reminders: BTreeMap<String, ReminderMark>,
    #[serde(default)]
    pub past_due: bool,
    #[serde(default)]
    pub suspension_settled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DunningItem {
    /// The item for an invoice being issued, if it is one to chase: a usage invoice, open,
    /// with something to pay and a due date.
    pub fn for_invoice(invoice: &Invoice, policy: &DunningPolicy, now: DateTime<Utc>) -> Option<Self> {
        let due = invoice.due_date?;
        if invoice.source != InvoiceSource::Usage
            || invoice.status != InvoiceStatus::Open
            || invoice.amount_due_cents <= 0
        {
            return None;
        }
        let key = dunning_key(&invoice.organization_id, &invoice.id);
        let next = dunning::next_attention(policy, due, &Progress::default());
        Some(Self {
            pk: key.pk,
            sk: key.sk,
            index_pk: next.map(|_| work_index::partition(DUNNING_PREFIX, &invoice.organization_id)),
            index_sk: next.map(|at| work_index::due_key(at.timestamp())),
            organization_id: invoice.organization_id.clone(),
            invoice_id: invoice.id.clone(),
            invoice_sk: invoice.sk.clone(),
            invoice_number: invoice.number.clone(),
            amount_due_cents: invoice.amount_due_cents,
            due_date: due,
            due_at: due.timestamp(),
            hosted_invoice_url: invoice.hosted_invoice_url.clone(),
            reminders: BTreeMap::new(),
            past_due: false,
            suspension_settled: false,
            created_at: now,
            updated_at: now,
        })
    }

    /// How far dunning has got, as the domain rules see it. Marks under an offset that is
    /// not a number (never written by us) are ignored.
    pub fn progress(&self) -> Progress {
        Progress {
            reminders: self.reminders.iter().filter_map(|(o, m)| Some((o.parse().ok()?, m.outcome))).collect(),
            past_due: self.past_due,
            suspension_settled: self.suspension_settled,
        }
    }
}

/// The put that lists a new invoice for dunning, for the transaction that issues it.
pub(crate) fn dunning_put(table: &str, item: &DunningItem) -> Result<Put, StoreError> {
    Put::builder().table_name(table).set_item(Some(encode(item)?)).build().map_err(build_err)
}

/// The delete that takes a paid or voided invoice off the dunning list, for the transaction
/// that closes it. Unconditional: invoices issued before dunning have no item.
pub(crate) fn dunning_delete(table: &str, org: &OrganizationId, invoice_id: &str) -> Result<Delete, StoreError> {
    Delete::builder()
        .table_name(table)
        .set_key(Some(key_item(&dunning_key(org, invoice_id))))
        .build()
        .map_err(build_err)
}

/// An entry of the dunning list that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueInvoice {
    pub organization_id: OrganizationId,
    pub invoice_id: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

impl Store {
    /// Every dunning entry due at or before `now`, shard by shard. A key that is not a
    /// dunning item's comes back as an `Err` naming it, for the caller to count and skip.
    pub async fn dunning_due(&self, now: DateTime<Utc>) -> Result<Vec<Result<DueInvoice, String>>, StoreError> {
        let up_to = work_index::due_key(now.timestamp());
        let mut found = Vec::new();
        for shard in 0..SHARDS {
            let pk = work_index::shard_partition(DUNNING_PREFIX, shard);
            for item in self.index_entries(&pk, Some(&up_to)).await? {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let (pk, sk) = (text(keys::PK), text(keys::SK));
                let entry = pk
                    .strip_prefix("ORG#")
                    .and_then(|org| OrganizationId::parse(org).ok())
                    .zip(sk.strip_prefix(DUNNING_PREFIX).filter(|id| crate::ids::is_safe_id(id)))
                    .map(|(organization_id, id)| DueInvoice { organization_id, invoice_id: id.to_owned() });
                found.push(entry.ok_or_else(|| format!("{pk}/{sk}")));
            }
        }
        Ok(found)
    }

    pub async fn dunning_item(
        &self,
        org: &OrganizationId,
        invoice_id: &str,
    ) -> Result<Option<DunningItem>, StoreError> {
        self.get_item(dunning_key(org, invoice_id)).await
    }

    /// Marks the invoice past due with its `InvoiceOverdue` event, once: the invoice's status
    /// (from open; one already past due through Stripe stays so), the item's `past_due` and
    /// the outbox item in one transaction. `false` when it was marked before or the invoice
    /// is paid or void (its item is gone).
    pub async fn mark_past_due(
        &self,
        item: &DunningItem,
        overdue: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let invoice = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&invoice_of(item))))
            .update_expression("SET #status = :past_due, updated_at = :now")
            .condition_expression("#status IN (:open, :past_due)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":past_due", s(InvoiceStatus::PastDue.as_str()))
            .expression_attribute_values(":open", s(InvoiceStatus::Open.as_str()))
            .expression_attribute_values(":now", s(timestamp(now)))
            .build()
            .map_err(build_err)?;
        let marked = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&dunning_key(&item.organization_id, &item.invoice_id))))
            .update_expression("SET past_due = :yes, updated_at = :now")
            .condition_expression("attribute_exists(PK) AND past_due = :no")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":now", s(timestamp(now)))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(invoice).build(),
            TransactWriteItem::builder().update(marked).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), overdue, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Records reminder `offset` as sent, with its `DunningReminder` event, once: the
    /// condition is that no mark exists for that offset. Offsets in `skipped` are marked
    /// skipped unless they already carry a mark. `false` when the offset was handled before
    /// or the invoice left the list.
    pub async fn record_reminder(
        &self,
        item: &DunningItem,
        offset: i64,
        skipped: &[i64],
        reminder: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mark =
            |outcome| serde_dynamo::to_attribute_value(ReminderMark { outcome, at: now }).map_err(StoreError::Encode);
        let mut sets = vec!["reminders.#o = :sent".to_owned(), "updated_at = :now".to_owned()];
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&dunning_key(&item.organization_id, &item.invoice_id))))
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(reminders.#o)")
            .expression_attribute_names("#o", offset.to_string())
            .expression_attribute_values(":sent", mark(ReminderOutcome::Sent)?)
            .expression_attribute_values(":now", s(timestamp(now)));
        if !skipped.is_empty() {
            update = update.expression_attribute_values(":skipped", mark(ReminderOutcome::Skipped)?);
        }
        for (i, earlier) in skipped.iter().enumerate() {
            sets.push(format!("reminders.#s{i} = if_not_exists(reminders.#s{i}, :skipped)"));
            update = update.expression_attribute_names(format!("#s{i}"), earlier.to_string());
        }
        let update = update.update_expression(format!("SET {}", sets.join(", "))).build().map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), reminder, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Moves the entry to its next attention time, or off the index (`None`), and records a
    /// settled suspension step. `false` when the invoice left the list meanwhile.
    pub async fn reschedule_dunning(
        &self,
        org: &OrganizationId,
        invoice_id: &str,
        next: Option<DateTime<Utc>>,
        suspension_settled: bool,
    ) -> Result<bool, StoreError> {
        let key = dunning_key(org, invoice_id);
        let result = retrying(|| async {
            let mut update = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_names("#pk", work_index::INDEX_PK)
                .expression_attribute_names("#sk", work_index::INDEX_SK);
            let mut sets = Vec::new();
            if suspension_settled {
                sets.push("suspension_settled = :yes");
                update = update.expression_attribute_values(":yes", AttributeValue::Bool(true));
            }
            let expression = match next {
                Some(at) => {
                    sets.push("#pk = :shard, #sk = :due");
                    update = update
                        .expression_attribute_values(":shard", s(work_index::partition(DUNNING_PREFIX, org)))
                        .expression_attribute_values(":due", s(work_index::due_key(at.timestamp())));
                    format!("SET {}", sets.join(", "))
                }
                None if sets.is_empty() => "REMOVE #pk, #sk".to_owned(),
                None => format!("SET {} REMOVE #pk, #sk", sets.join(", ")),
            };
            written("UpdateItem", update.update_expression(expression).send().await)
        })
        .await?;
        Ok(result)
    }

    /// Ids of the organization's unpaid usage invoices whose due date is at or before
    /// `due_by` (Unix second): those overdue long enough to suspend the account.
    pub async fn overdue_invoices(&self, org: &OrganizationId, due_by: i64) -> Result<Vec<String>, StoreError> {
        let query = self
            .prefix_query(keys::org_partition(org), DUNNING_PREFIX)
            .filter_expression("due_at <= :due_by")
            .projection_expression("invoice_id")
            .expression_attribute_values(":due_by", AttributeValue::N(due_by.to_string()));
        let read = self.query_pages(query, None, Reach::All).await?;
        Ok(read.items.iter().filter_map(|i| i.get("invoice_id")?.as_s().ok().cloned()).collect())
    }

    /// Whether the invoice behind a dunning item is paid or void (so the item is stale).
    pub async fn dunning_invoice_closed(&self, item: &DunningItem) -> Result<bool, StoreError> {
        let invoice = self.invoice_at(&invoice_of(item)).await?;
        Ok(invoice.is_none_or(|i| matches!(i.status, InvoiceStatus::Paid | InvoiceStatus::Void)))
    }
}

/// The invoice item's key, as dunning names it.
pub fn invoice_of(item: &DunningItem) -> keys::Key {
    keys::Key { pk: item.pk.clone(), sk: item.invoice_sk.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoicing::store::invoice_key;
    use chrono::TimeZone;

    fn issued() -> Invoice {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
        let org = OrganizationId::parse("acme").unwrap();
        let mut invoice = Invoice::draft(&org, "acct", "inv_1".into(), at);
        invoice.status = InvoiceStatus::Open;
        invoice.amount_due_cents = 3_000;
        invoice.due_date = Some(at + chrono::Duration::days(7));
        invoice
    }

    #[test]
    fn an_open_usage_invoice_with_something_due_is_listed_at_its_first_reminder() {
        let invoice = issued();
        let item = DunningItem::for_invoice(&invoice, &DunningPolicy::default(), invoice.created_at).unwrap();
        assert_eq!((item.pk.as_str(), item.sk.as_str()), ("ORG#acme", "DUNNING#inv_1"));
        assert_eq!(item.index_pk, Some(work_index::partition(DUNNING_PREFIX, &invoice.organization_id)));
        let first = invoice.due_date.unwrap() - chrono::Duration::days(3);
        assert_eq!(item.index_sk, Some(work_index::due_key(first.timestamp())));
        assert_eq!(item.due_at, invoice.due_date.unwrap().timestamp());
        assert_eq!(invoice_of(&item), invoice_key(&invoice));
        let stored: DunningItem = serde_dynamo::from_item(encode(&item).unwrap()).unwrap();
        assert_eq!(stored, item, "round-trips through an item");
    }

    #[test]
    fn paid_free_and_subscription_invoices_are_not_chased() {
        let policy = DunningPolicy::default();
        let mut paid = issued();
        paid.status = InvoiceStatus::Paid;
        let mut nothing_due = issued();
        nothing_due.amount_due_cents = 0;
        let mut stripes = issued();
        stripes.source = InvoiceSource::StripeSubscription;
        for invoice in [paid, nothing_due, stripes] {
            assert!(DunningItem::for_invoice(&invoice, &policy, invoice.created_at).is_none(), "{invoice:?}");
        }
    }
}
