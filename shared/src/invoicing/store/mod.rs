//! Invoices in DynamoDB, and the writes that make generation exactly-once.
//!
//! | Item | PK | SK | Index |
//! |---|---|---|---|
//! | Invoice | `ORG#<org>` | `INVOICE#<created>#<id>` | — |
//! | Invoice lookup | `INVOICE#<id>` | `LOOKUP` | — |
//! | Draft pointer | `ORG#<org>` | `INVOICEDRAFT` | — |
//! | Claim batch | `ORG#<org>` | `INVOICECLAIM#<invoice>#<batch>` | — |
//! | Number counter | `ORG#<org>` | `INVOICESEQ` | — |
//! | Close marker | `ORG#<org>` | `CLOSE` | GSI3 `CLOSE#<month>#<shard>` (see [`close`]) |
//! | Dunning state | `ORG#<org>` | `DUNNING#<invoice>` | GSI3 `DUNNING#<shard>` (see [`dunning`]) |
//!
//! The pointer names the organization's one draft in progress (or the last generation once
//! done); it is only ever replaced by a put conditioned on the version read, so two callers
//! can never start two drafts. Usage is claimed record by record with a conditional update
//! (`GSI2PK = UNBILLED#<org>` — still unbilled — or already ours); the keys a generation is
//! about to claim are written first as a claim batch, so whoever resumes a draft reads exactly
//! the records it holds, with strongly consistent reads rather than from an index.
//!
//! An invoice is found by id through its lookup item (organization and sort key): a strongly
//! consistent read, and no index copy of the invoice item, which lists every usage record id
//! it bills and can be a few hundred KB.

pub mod close;
pub mod operator;

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::invoicing::rules::{Invoice, InvoiceStatus};
use crate::money::Cents;
use crate::store::cursor::{ListKind, ListQuery};
use crate::store::outbox::outbox_put;
use crate::store::paging::{ListError, Listing, Order, Page, Reach};
use crate::store::{Item, Retry, Store, StoreError, decode, encode, key_item, keys, retrying, timestamp, written};
use crate::usage::rules::{LedgerEntry, UsageRecord};

pub const POINTER_SK: &str = "INVOICEDRAFT";
const CLAIM_PREFIX: &str = "INVOICECLAIM#";
const COUNTER_SK: &str = "INVOICESEQ";
const INVOICE_PREFIX: &str = "INVOICE#";

pub(crate) fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

pub fn unbilled_partition(org: &OrganizationId) -> String {
    format!("UNBILLED#{org}")
}

pub fn pointer_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: POINTER_SK.to_owned() }
}

fn counter_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: COUNTER_SK.to_owned() }
}

pub fn invoice_key(invoice: &Invoice) -> keys::Key {
    keys::Key { pk: invoice.pk.clone(), sk: invoice.sk.clone() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointerState {
    /// A draft is being generated; whoever holds the lease works on it.
    Drafting,
    /// The named invoice is generated; the next generate starts a new draft.
    Done,
}

/// `ORG#<org>` / `INVOICEDRAFT`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftPointer {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub state: PointerState,
    pub invoice_id: String,
    pub invoice_sk: String,
    pub cutoff: DateTime<Utc>,
    /// Who works on the draft, until when (Unix seconds). Longer than a function can run,
    /// so a lease that ran out belongs to a caller that is gone.
    #[serde(default)]
    pub lease_owner: Option<String>,
    #[serde(default)]
    pub lease_until: i64,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl DraftPointer {
    pub fn drafting(invoice: &Invoice, owner: &str, lease_until: i64, version: u64) -> Self {
        Self {
            pk: invoice.pk.clone(),
            sk: POINTER_SK.to_owned(),
            state: PointerState::Drafting,
            invoice_id: invoice.id.clone(),
            invoice_sk: invoice.sk.clone(),
            cutoff: invoice.cutoff,
            lease_owner: Some(owner.to_owned()),
            lease_until,
            completed_at: None,
            version,
        }
    }

    pub fn invoice_key(&self) -> keys::Key {
        keys::Key { pk: self.pk.clone(), sk: self.invoice_sk.clone() }
    }
}

/// `INVOICE#<id>` / `LOOKUP`: where the invoice with this id is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct InvoiceLookup {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    organization_id: OrganizationId,
    invoice_sk: String,
}

impl InvoiceLookup {
    fn of(invoice: &Invoice) -> Self {
        let key = lookup_key(&invoice.id);
        Self {
            pk: key.pk,
            sk: key.sk,
            organization_id: invoice.organization_id.clone(),
            invoice_sk: invoice.sk.clone(),
        }
    }
}

fn lookup_key(invoice_id: &str) -> keys::Key {
    keys::Key { pk: format!("{INVOICE_PREFIX}{invoice_id}"), sk: "LOOKUP".to_owned() }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ClaimBatch {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    invoice_id: String,
    usage_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Counter {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    last: u64,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn sk_of(item: &Item) -> String {
    item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

impl Store {
    pub async fn invoice_pointer(&self, org: &OrganizationId) -> Result<Option<DraftPointer>, StoreError> {
        self.get_item(pointer_key(org)).await
    }

    /// Replaces the pointer if it is still at `expected` (its version; `None`: no pointer).
    pub async fn replace_pointer(&self, expected: Option<u64>, next: &DraftPointer) -> Result<bool, StoreError> {
        let put = self.client().put_item().table_name(self.table()).set_item(Some(encode(next)?));
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(v) => put.condition_expression("version = :v").expression_attribute_values(":v", n(v)),
        };
        written("PutItem", put.send().await)
    }

    /// Starts a draft: the pointer (if still at `expected`) and the draft invoice, together.
    pub async fn start_draft(
        &self,
        expected: Option<u64>,
        pointer: &DraftPointer,
        draft: &Invoice,
    ) -> Result<bool, StoreError> {
        let mut pointer_put = Put::builder().table_name(self.table()).set_item(Some(encode(pointer)?));
        pointer_put = match expected {
            None => pointer_put.condition_expression("attribute_not_exists(PK)"),
            Some(v) => pointer_put.condition_expression("version = :v").expression_attribute_values(":v", n(v)),
        };
        let invoice_put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(draft)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let lookup_put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(&InvoiceLookup::of(draft))?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let mut items = vec![
            TransactWriteItem::builder().put(pointer_put.build().map_err(build_err)?).build(),
            TransactWriteItem::builder().put(invoice_put).build(),
            TransactWriteItem::builder().put(lookup_put).build(),
        ];
        // Each month's own lines are billed by one invoice at a time: a close that read what was
        // billed before another one billed more fails here and reads again.
        for billed in draft.month_charges.iter().flat_map(|c| &c.months) {
            let marker = close::month_charges_put(self.table(), &draft.organization_id, billed, &draft.id)?;
            items.push(TransactWriteItem::builder().put(marker).build());
        }
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Whether any usage recorded up to `cutoff` is still unbilled (one index read).
    pub async fn has_unbilled(&self, org: &OrganizationId, cutoff: DateTime<Utc>) -> Result<bool, StoreError> {
        let (keys, _) = self.unbilled_page(org, cutoff, None, 1).await?;
        Ok(!keys.is_empty())
    }

    /// Sort keys of unbilled usage recorded up to `cutoff`, oldest first, from the sparse
    /// `UNBILLED#<org>` index partition (per organization, never scanned).
    pub async fn unbilled_page(
        &self,
        org: &OrganizationId,
        cutoff: DateTime<Utc>,
        start: Option<Item>,
        limit: i32,
    ) -> Result<(Vec<String>, Option<Item>), StoreError> {
        let high = format!("{}~", cutoff.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :pk AND GSI2SK <= :high")
            .expression_attribute_values(":pk", s(unbilled_partition(org)))
            .expression_attribute_values(":high", s(high))
            .projection_expression("PK, SK, GSI2PK, GSI2SK");
        let read = self.query_pages(query, start, Reach::Items(usize::try_from(limit).unwrap_or_default())).await?;
        let keys = read.items.iter().map(sk_of).filter(|sk| sk.starts_with("USAGE#")).collect();
        Ok((keys, read.next))
    }

    /// Notes the usage keys a draft is about to claim, before claiming them.
    pub async fn put_claim_batch(
        &self,
        org: &OrganizationId,
        invoice_id: &str,
        usage_keys: &[String],
    ) -> Result<(), StoreError> {
        let batch = ClaimBatch {
            pk: keys::org_partition(org),
            sk: format!("{CLAIM_PREFIX}{invoice_id}#{}", uuid::Uuid::now_v7().simple()),
            invoice_id: invoice_id.to_owned(),
            usage_keys: usage_keys.to_vec(),
        };
        self.put(&batch).await
    }

    /// Puts one usage record on the invoice if it is still unbilled (or already ours):
    /// `billed`, `invoice_id`, `billed_at`, and out of the unbilled index.
    pub async fn claim_usage(
        &self,
        org: &OrganizationId,
        usage_sk: &str,
        invoice_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = keys::Key { pk: keys::org_partition(org), sk: usage_sk.to_owned() };
        let result = retrying(|| async {
            let sent = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .update_expression("SET billed = :yes, invoice_id = :inv, billed_at = :now REMOVE GSI2PK, GSI2SK")
                .condition_expression("attribute_exists(PK) AND (GSI2PK = :unbilled OR invoice_id = :inv)")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .expression_attribute_values(":inv", s(invoice_id))
                .expression_attribute_values(":now", s(timestamp(now)))
                .expression_attribute_values(":unbilled", s(unbilled_partition(org)))
                .send()
                .await;
            written("UpdateItem", sent)
        })
        .await?;
        Ok(result)
    }

    /// Every usage record the invoice holds, read consistently through its claim batches.
    pub async fn claimed_usage(&self, org: &OrganizationId, invoice_id: &str) -> Result<Vec<UsageRecord>, StoreError> {
        let prefix = format!("{CLAIM_PREFIX}{invoice_id}#");
        let mut candidates: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for item in self.partition_prefix(org, &prefix).await? {
            let batch: ClaimBatch = decode(&keys::Key { pk: keys::org_partition(org), sk: sk_of(&item) }, item)?;
            candidates.extend(batch.usage_keys.into_iter().filter(|k| seen.insert(k.clone())));
        }
        let mut records = Vec::with_capacity(candidates.len());
        for chunk in candidates.chunks(100) {
            for item in self.batch_get(org, chunk).await? {
                let key = keys::Key { pk: keys::org_partition(org), sk: sk_of(&item) };
                let record: UsageRecord = decode(&key, item)?;
                if record.invoice_id.as_deref() == Some(invoice_id) {
                    records.push(record);
                }
            }
        }
        records.sort_by(|a, b| a.sk.cmp(&b.sk));
        Ok(records)
    }

    /// Items of the organization's partition whose sort key starts with `prefix`, read
    /// strongly consistently.
    async fn partition_prefix(&self, org: &OrganizationId, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let query = self.prefix_query(keys::org_partition(org), prefix);
        Ok(self.query_pages(query, None, Reach::All).await?.items)
    }

    /// Up to 100 items of the organization's partition by sort key, consistently; keys
    /// DynamoDB leaves unprocessed are asked again.
    async fn batch_get(&self, org: &OrganizationId, sks: &[String]) -> Result<Vec<Item>, StoreError> {
        let mut pending: Vec<Item> =
            sks.iter().map(|sk| key_item(&keys::Key { pk: keys::org_partition(org), sk: sk.clone() })).collect();
        let mut found = Vec::new();
        let mut attempt = 0;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending.clone()))
                .consistent_read(true)
                .build()
                .map_err(build_err)?;
            let out = retrying(|| async {
                self.client()
                    .batch_get_item()
                    .request_items(self.table(), request.clone())
                    .send()
                    .await
                    .map_err(|e| StoreError::from_sdk("BatchGetItem", e))
            })
            .await?;
            found.extend(out.responses.unwrap_or_default().remove(self.table()).unwrap_or_default());
            pending = out.unprocessed_keys.unwrap_or_default().remove(self.table()).map(|k| k.keys).unwrap_or_default();
            if !pending.is_empty() {
                crate::store::jittered_pause(attempt).await;
                attempt += 1;
            }
        }
        Ok(found)
    }

    pub async fn invoice_at(&self, key: &keys::Key) -> Result<Option<Invoice>, StoreError> {
        self.get_item(key.clone()).await
    }

    /// An invoice by id, whatever its organization (the caller checks who may see it).
    pub async fn invoice_by_id(&self, invoice_id: &str) -> Result<Option<Invoice>, StoreError> {
        let Some(lookup) = self.get_item::<InvoiceLookup>(lookup_key(invoice_id)).await? else { return Ok(None) };
        self.invoice_at(&keys::Key { pk: keys::org_partition(&lookup.organization_id), sk: lookup.invoice_sk }).await
    }

    /// Stores the draft's lines and totals once, with `InvoiceGenerated`.
    pub async fn save_priced(
        &self,
        invoice: &Invoice,
        event: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(invoice)?))
            .condition_expression("#status = :draft AND priced = :no")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":draft", s("draft"))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), event, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Deletes a draft that found nothing to bill, and its pointer.
    pub async fn drop_empty_draft(&self, pointer: &DraftPointer) -> Result<bool, StoreError> {
        let delete_pointer = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::Key { pk: pointer.pk.clone(), sk: POINTER_SK.to_owned() })))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(pointer.version))
            .build()
            .map_err(build_err)?;
        let delete_draft = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&pointer.invoice_key())))
            .condition_expression("#status = :draft")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":draft", s("draft"))
            .build()
            .map_err(build_err)?;
        let draft_id = &pointer.invoice_id;
        let delete_lookup = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&lookup_key(draft_id))))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete_pointer).build(),
            TransactWriteItem::builder().delete(delete_draft).build(),
            TransactWriteItem::builder().delete(delete_lookup).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Applies `amount` of the available credit balance to the invoice, once: the account's
    /// balance (only if that much is available), the ledger entry and the invoice's
    /// `balance_applied_cents` in one transaction.
    pub async fn apply_balance(
        &self,
        invoice: &Invoice,
        amount: Cents,
        entry: Option<&LedgerEntry>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut applied = invoice.clone();
        applied.balance_applied_cents = Some(amount);
        applied.retotal();
        applied.updated_at = now;
        let invoice_update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&invoice_key(invoice))))
            .update_expression(
                "SET balance_applied_cents = :a, credits_applied_cents = :c, amount_due_cents = :d, updated_at = :now",
            )
            .condition_expression("attribute_not_exists(balance_applied_cents) AND #status = :draft")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":a", n(amount))
            .expression_attribute_values(":c", n(applied.credits_applied_cents))
            .expression_attribute_values(":d", n(applied.amount_due_cents))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":draft", s("draft"))
            .build()
            .map_err(build_err)?;
        let mut items = vec![TransactWriteItem::builder().update(invoice_update).build()];
        if let Some(entry) = entry.filter(|_| amount > 0) {
            let account = Update::builder()
                .table_name(self.table())
                .set_key(Some(key_item(&keys::account(&invoice.organization_id))))
                .update_expression(
                    "SET credit_balance_cents = credit_balance_cents - :a, updated_at = :now ADD version :one",
                )
                .condition_expression("credit_balance_cents >= :a")
                .expression_attribute_values(":a", n(amount))
                .expression_attribute_values(":now", s(timestamp(now)))
                .expression_attribute_values(":one", n(1))
                .build()
                .map_err(build_err)?;
            let ledger = Put::builder()
                .table_name(self.table())
                .set_item(Some(encode(entry)?))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(build_err)?;
            items.push(TransactWriteItem::builder().update(account).build());
            items.push(TransactWriteItem::builder().put(ledger).build());
        }
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// The number of the organization's last finalized invoice (0: none yet).
    pub async fn last_invoice_sequence(&self, org: &OrganizationId) -> Result<u64, StoreError> {
        let counter: Option<Counter> = self.get_item(counter_key(org)).await?;
        Ok(counter.map_or(0, |c| c.last))
    }

    /// Gives the invoice the number after `last`, if the counter is still at `last` and the
    /// invoice has none yet; both in one transaction, so numbers have no gaps or repeats.
    pub async fn assign_number(
        &self,
        invoice: &Invoice,
        last: u64,
        number: &str,
        due_date: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let next = last + 1;
        let org = &invoice.organization_id;
        let counter = Counter { pk: keys::org_partition(org), sk: COUNTER_SK.to_owned(), last: next };
        let mut counter_put = Put::builder().table_name(self.table()).set_item(Some(encode(&counter)?));
        counter_put = if last == 0 {
            counter_put.condition_expression("attribute_not_exists(PK)")
        } else {
            counter_put
                .condition_expression("#last = :last")
                .expression_attribute_names("#last", "last")
                .expression_attribute_values(":last", n(last))
        };
        let invoice_update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&invoice_key(invoice))))
            .update_expression(
                "SET #seq = :seq, #number = :number, finalized_at = :now, due_date = :due, updated_at = :now",
            )
            .condition_expression("attribute_not_exists(#seq) AND #status = :draft")
            .expression_attribute_names("#seq", "sequence")
            .expression_attribute_names("#number", "number")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":seq", n(next))
            .expression_attribute_values(":number", s(number))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":due", s(timestamp(due_date)))
            .expression_attribute_values(":draft", s("draft"))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(counter_put.build().map_err(build_err)?).build(),
            TransactWriteItem::builder().update(invoice_update).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Records the Stripe invoice that collects ours.
    pub async fn set_stripe_invoice(&self, invoice: &Invoice) -> Result<(), StoreError> {
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&invoice_key(invoice))))
            .update_expression(
                "SET stripe_invoice_id = :id, hosted_invoice_url = :url, invoice_pdf = :pdf, collection_method = :method",
            )
            .condition_expression("attribute_exists(PK)");
        let opt = |v: &Option<String>| v.clone().map_or(AttributeValue::Null(true), AttributeValue::S);
        update = update
            .expression_attribute_values(":id", opt(&invoice.stripe_invoice_id))
            .expression_attribute_values(":url", opt(&invoice.hosted_invoice_url))
            .expression_attribute_values(":pdf", opt(&invoice.invoice_pdf))
            .expression_attribute_values(":method", opt(&invoice.collection_method));
        written("UpdateItem", update.send().await).map(drop)
    }

    /// Issues the invoice (its final state, `open` or `paid`) and marks the generation done
    /// in the pointer, with the events and, for an invoice to chase, its dunning item, in one
    /// transaction.
    pub async fn issue_invoice(
        &self,
        invoice: &Invoice,
        pointer: &DraftPointer,
        events: &[Envelope],
        dunning: Option<&crate::dunning::store::DunningItem>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let invoice_put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(invoice)?))
            .condition_expression("#status = :draft")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":draft", s("draft"))
            .build()
            .map_err(build_err)?;
        let mut done = pointer.clone();
        done.state = PointerState::Done;
        done.lease_owner = None;
        done.lease_until = 0;
        done.completed_at = Some(now);
        done.version = pointer.version + 1;
        let pointer_put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(&done)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(pointer.version))
            .build()
            .map_err(build_err)?;
        let mut items = vec![
            TransactWriteItem::builder().put(invoice_put).build(),
            TransactWriteItem::builder().put(pointer_put).build(),
        ];
        for event in events {
            items.push(TransactWriteItem::builder().put(outbox_put(self.table(), event, now)?).build());
        }
        if let Some(item) = dunning {
            items.push(
                TransactWriteItem::builder().put(crate::dunning::store::dunning_put(self.table(), item)?).build(),
            );
        }
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Marks an issued invoice paid (final), with its payment record and `InvoicePaid`, and
    /// takes it off the dunning list. `false` when it was paid already, voided, or is still a
    /// draft.
    pub async fn mark_invoice_paid(
        &self,
        invoice: &Invoice,
        amount_paid: Cents,
        paid_at: DateTime<Utc>,
        payment: &crate::stripe_events::store::Payment,
        event: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&invoice_key(invoice))))
            .update_expression(
                "SET #status = :paid, amount_paid_cents = :paidc, amount_due_cents = :zero, paid_at = :at, updated_at = :now",
            )
            .condition_expression("#status IN (:open, :past_due)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":paid", s("paid"))
            .expression_attribute_values(":paidc", n(amount_paid))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(timestamp(paid_at)))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":past_due", s("past_due"))
            .build()
            .map_err(build_err)?;
        // The payment record may exist already (the subscription path writes it too).
        let payment_put =
            Put::builder().table_name(self.table()).set_item(Some(encode(payment)?)).build().map_err(build_err)?;
        let off_the_list = crate::dunning::store::dunning_delete(self.table(), &invoice.organization_id, &invoice.id)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(payment_put).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), event, now)?).build(),
            TransactWriteItem::builder().delete(off_the_list).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Moves an invoice from one of `from` to `to`; `false` if it is in none of them. An
    /// invoice moved to a final status (paid, void) leaves the dunning list in the same
    /// transaction.
    pub async fn move_invoice_status(
        &self,
        invoice: &Invoice,
        from: &[InvoiceStatus],
        to: InvoiceStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let placeholders: Vec<String> = (0..from.len()).map(|i| format!(":f{i}")).collect();
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&invoice_key(invoice))))
            .update_expression("SET #status = :to, updated_at = :now")
            .condition_expression(format!("#status IN ({})", placeholders.join(", ")))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", s(timestamp(now)));
        for (placeholder, status) in placeholders.iter().zip(from) {
            update = update.expression_attribute_values(placeholder, s(status.as_str()));
        }
        let update = update.build().map_err(build_err)?;
        if !matches!(to, InvoiceStatus::Paid | InvoiceStatus::Void) {
            let sent = self
                .client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await;
            return written("UpdateItem", sent);
        }
        let off_the_list = crate::dunning::store::dunning_delete(self.table(), &invoice.organization_id, &invoice.id)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().delete(off_the_list).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Records an invoice Stripe issued itself (subscription fees). Paid and void are final:
    /// a later or replayed event about the same invoice never moves it back.
    pub async fn record_stripe_invoice(&self, invoice: &Invoice) -> Result<bool, StoreError> {
        // The lookup first (the same item every time), so an invoice is never unfindable.
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&InvoiceLookup::of(invoice))?))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("PutItem", e))?;
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(invoice)?))
            .condition_expression("attribute_not_exists(PK) OR NOT (#status IN (:paid, :void))")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":paid", s("paid"))
            .expression_attribute_values(":void", s("void"))
            .send()
            .await;
        written("PutItem", result)
    }

    /// A page of the organization's invoices, newest first, optionally of one status.
    pub async fn list_invoices(
        &self,
        org: &OrganizationId,
        status: Option<InvoiceStatus>,
        listing: &Listing,
    ) -> Result<Page<Invoice>, ListError> {
        let mut query = ListQuery::new(ListKind::Invoices, org, listing.from, listing.to, None);
        query.status = status.map(|s| s.as_str().to_owned());
        let filter = status.map(|status| ("status", ":status", s(status.as_str())));
        self.decoded_page(INVOICE_PREFIX, filter, &query, listing, Order::NewestFirst).await
    }
}

/// Item names a test or a tool may want to filter on.
pub fn is_invoice_sort_key(sk: &str) -> bool {
    sk.starts_with(INVOICE_PREFIX)
}
