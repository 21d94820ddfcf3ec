//! Cost records, their aggregates, budgets and threshold marks.
//!
//! A cost record is written in one transaction with two atomic `ADD`s: the day's aggregate
//! for its provider and model (`COSTAGG#<yyyy-mm-dd>#<provider>#<model>`, what summaries read)
//! and the month's total (`COSTMONTH#<yyyy-mm>`, what budgets read). The record's key is the
//! message's event id, so a redelivery fails the transaction and adds nothing twice.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::costs::rules::budget::{Budget, Threshold};
use crate::costs::rules::{CostRecord, Micros};
use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::period;
use crate::store::cursor::{ListKind, ListQuery};
use crate::store::outbox::outbox_put;
// The paging types live in the store core; named here too for the callers outside the store
// parts (HTTP, flows, functions, tests) that still import them from this module.
pub use crate::store::paging::{ListError, Listing, Order, Page};
use crate::store::{Retry, Store, StoreError, decode, encode, key_item, keys, written};

/// One provider/model's cost on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostAggregate {
    pub day: String,
    pub provider: String,
    pub model: String,
    pub cost_micros: Micros,
    pub billable_micros: Micros,
    pub tokens: u64,
    pub records: u64,
}

fn day_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn month_total_key(org: &OrganizationId, month: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: format!("COSTMONTH#{month}") }
}

fn budget_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "BUDGET".to_owned() }
}

fn mark_key(org: &OrganizationId, month: &str, threshold: Threshold) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: format!("BUDGETMARK#{month}#{}", threshold.as_str()) }
}

impl Store {
    /// Records an LLM call's cost and adds it to the aggregates, exactly once per event id.
    /// Returns whether it was new and the month's billable total afterwards.
    /// Records a call's cost once, with its `CostRecorded` announcement in the same
    /// transaction (published by the outbox stream if and only if the record was written).
    /// Answers whether this call wrote it, and the month's billable total after it.
    pub async fn record_cost(
        &self,
        record: &CostRecord,
        announcement: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<(bool, Micros), StoreError> {
        let org = &record.organization_id;
        let day = day_key(record.recorded_at);
        let month = period::month_key(record.recorded_at);
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(record)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })?;
        let agg_key = keys::Key {
            pk: keys::org_partition(org),
            sk: format!("COSTAGG#{day}#{}#{}", record.provider, record.model),
        };
        let aggregate = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&agg_key)))
            .update_expression(
                "SET #day = :day, provider = :provider, #model = :model \
                 ADD cost_micros :cost, billable_micros :billable, tokens :tokens, records :one",
            )
            .expression_attribute_names("#day", "day")
            .expression_attribute_names("#model", "model")
            .expression_attribute_values(":day", AttributeValue::S(day.clone()))
            .expression_attribute_values(":provider", AttributeValue::S(record.provider.clone()))
            .expression_attribute_values(":model", AttributeValue::S(record.model.clone()))
            .expression_attribute_values(":cost", AttributeValue::N(record.total_cost_micros().to_string()))
            .expression_attribute_values(":billable", AttributeValue::N(record.billable_micros.to_string()))
            .expression_attribute_values(":tokens", AttributeValue::N(record.total_tokens().to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })?;
        let month_total = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&month_total_key(org, &month))))
            .update_expression("ADD cost_micros :cost, billable_micros :billable")
            .expression_attribute_values(":cost", AttributeValue::N(record.total_cost_micros().to_string()))
            .expression_attribute_values(":billable", AttributeValue::N(record.billable_micros.to_string()))
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(aggregate).build(),
            TransactWriteItem::builder().update(month_total).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), announcement, now)?).build(),
        ];
        // One attempt, as this write always made: a failure returns the message to its queue,
        // and the redelivery takes a record written meanwhile for a duplicate and still runs
        // the follow-ups. Only the record's put (item 0) decides a duplicate.
        let created = self.transact(items, Retry::Never).await?.committed_unless(0)?;
        Ok((created, self.month_billable(org, &month).await?))
    }

    pub async fn month_billable(&self, org: &OrganizationId, month: &str) -> Result<Micros, StoreError> {
        #[derive(Deserialize)]
        struct Total {
            #[serde(default)]
            billable_micros: Micros,
        }
        let total: Option<Total> = self.get_item(month_total_key(org, month)).await?;
        Ok(total.map_or(0, |t| t.billable_micros))
    }

    /// Daily aggregates for `from..=to` (UTC days).
    pub async fn cost_aggregates(
        &self,
        org: &OrganizationId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CostAggregate>, StoreError> {
        let low = format!("COSTAGG#{}", from.format("%Y-%m-%d"));
        let high = format!("COSTAGG#{}~", to.format("%Y-%m-%d"));
        let pk = keys::org_partition(org);
        let (items, _) = self.query_range(&pk, &low, &high, None, None, usize::MAX, Order::OldestFirst).await?;
        // The days' run aggregates share this key range (`store::daily`).
        items
            .into_iter()
            .filter(|(key, _)| !crate::usage::store::is_run_day(&key.sk))
            .map(|(key, item)| decode(&key, item))
            .collect()
    }

    pub async fn get_budget(&self, org: &OrganizationId) -> Result<Option<Budget>, StoreError> {
        self.get_item(budget_key(org)).await
    }

    /// Sets the budget. A budget raised above this month's spend lifts a hard-cap block and
    /// forgets thresholds no longer reached, so crossing the new limit notifies again.
    pub async fn put_budget(
        &self,
        org: &OrganizationId,
        budget: &Budget,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = budget_key(org);
        let mut item = encode(budget)?;
        item.extend(key_item(&key));
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("PutItem", e))?;
        let month = period::month_key(now);
        let reached = budget.reached(self.month_billable(org, &month).await?);
        for threshold in [Threshold::Warning, Threshold::Exceeded] {
            if !reached.contains(&threshold) {
                self.client()
                    .delete_item()
                    .table_name(self.table())
                    .set_key(Some(key_item(&mark_key(org, &month, threshold))))
                    .send()
                    .await
                    .map_err(|e| StoreError::from_sdk("DeleteItem", e))?;
            }
        }
        if !(budget.hard_cap && reached.contains(&Threshold::Exceeded)) {
            self.set_budget_block(org, None).await?;
        }
        Ok(())
    }

    /// Marks `threshold` reached for `month`, once, with its announcement in the same
    /// transaction: the first caller writes both and gets `true`; any later one (a concurrent
    /// cost, a redelivery) finds the mark and writes nothing. An announcement is never lost
    /// between the mark and the bus, and never sent twice.
    pub async fn mark_threshold(
        &self,
        org: &OrganizationId,
        month: &str,
        threshold: Threshold,
        announcement: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mark = Put::builder()
            .table_name(self.table())
            .set_item(Some(key_item(&mark_key(org, month, threshold))))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })?;
        let items = vec![
            TransactWriteItem::builder().put(mark).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), announcement, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed_unless(0)
    }

    /// Blocks new reservations for `month` (hard cap reached), or lifts the block (`None`).
    pub async fn set_budget_block(&self, org: &OrganizationId, month: Option<&str>) -> Result<(), StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .condition_expression("attribute_exists(PK)");
        let request = match month {
            Some(month) => request
                .update_expression("SET budget_blocked_period = :m")
                .expression_attribute_values(":m", AttributeValue::S(month.to_owned())),
            None => request.update_expression("REMOVE budget_blocked_period"),
        };
        // No account yet: nothing to block or unblock.
        written("UpdateItem", request.send().await).map(drop)
    }
}

impl Store {
    pub async fn list_usage(
        &self,
        org: &OrganizationId,
        billed: Option<bool>,
        listing: &Listing,
        order: Order,
    ) -> Result<Page<crate::usage::rules::UsageRecord>, ListError> {
        let query = ListQuery::new(ListKind::Usage, org, listing.from, listing.to, billed).in_order(order);
        let filter = billed.map(|b| ("billed", ":billed", AttributeValue::Bool(b)));
        self.decoded_page("USAGE#", filter, &query, listing, order).await
    }

    pub async fn list_costs(
        &self,
        org: &OrganizationId,
        listing: &Listing,
        order: Order,
    ) -> Result<Page<CostRecord>, ListError> {
        let query = ListQuery::new(ListKind::Costs, org, listing.from, listing.to, None).in_order(order);
        self.decoded_page("COST#", None, &query, listing, order).await
    }
}
