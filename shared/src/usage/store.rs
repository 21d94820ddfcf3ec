//! Per-day aggregates for the usage chart: one run aggregate per organization and UTC day,
//! beside the day's LLM cost aggregates.
//!
//! The run aggregate's sort key is `COSTAGG#<yyyy-mm-dd>#~runs`, inside the cost aggregates'
//! own key range on purpose: one `SK BETWEEN COSTAGG#<from> AND COSTAGG#<to>~` query returns
//! both kinds for a whole range of days, so a chart of a year is one request (one read unit
//! per 4 KB of aggregates), never a read of every usage record. A cost aggregate's key always
//! has a provider after the day, and provider names never contain `~` (`api::costs::
//! is_model_name`), so the two kinds cannot collide; readers of cost aggregates skip this one.
//!
//! A run is counted in the same transaction that creates its usage record (the record's put
//! is conditional on its absence), so a retried or repeated commit never counts twice and a
//! crash never counts a run without its record.

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::costs::store::CostAggregate;
use crate::ids::OrganizationId;
use crate::money::Cents;
use crate::quota::rules::Bucket;
use crate::store::paging::Order;
use crate::store::transact::Transacted;
use crate::store::{Item, Retry, Store, StoreError, decode, encode, key_item, keys};
use crate::usage::rules::UsageRecord;

/// What ends a run aggregate's sort key (after `COSTAGG#<day>`).
pub const RUNS_SUFFIX: &str = "#~runs";

/// The runs one organization settled on one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDay {
    pub day: String,
    /// Runs by the bucket that paid for them.
    #[serde(default)]
    pub free: u64,
    #[serde(default)]
    pub credits: u64,
    #[serde(default)]
    pub subscription: u64,
    #[serde(default)]
    pub overage: u64,
    #[serde(default)]
    pub unlimited: u64,
    /// What the runs cost the customer (the usage records' `charged + excess`).
    #[serde(default)]
    pub charged_cents: Cents,
}

/// The day of a UTC date, as the aggregates key it.
pub fn day_of(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub fn run_day_key(org: &OrganizationId, day: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: format!("COSTAGG#{day}{RUNS_SUFFIX}") }
}

pub fn is_run_day(sk: &str) -> bool {
    sk.ends_with(RUNS_SUFFIX)
}

fn bucket_attribute(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Free => "free",
        Bucket::Credits => "credits",
        Bucket::Subscription => "subscription",
        Bucket::Overage => "overage",
        Bucket::Unlimited => "unlimited",
    }
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

/// Every aggregate of a range of days, both kinds, from one query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DailyAggregates {
    pub runs: Vec<RunDay>,
    pub costs: Vec<CostAggregate>,
}

impl Store {
    /// The atomic `ADD` that counts `usage` in its day's run aggregate; only ever sent in the
    /// transaction that creates the usage record.
    pub(crate) fn count_run(&self, usage: &UsageRecord) -> Result<Update, StoreError> {
        let day = usage.recorded_at.format("%Y-%m-%d").to_string();
        Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&run_day_key(&usage.organization_id, &day))))
            .update_expression("SET #day = :day ADD #bucket :one, charged_cents :charged")
            .expression_attribute_names("#day", "day")
            .expression_attribute_names("#bucket", bucket_attribute(usage.bucket))
            .expression_attribute_values(":day", AttributeValue::S(day))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(
                ":charged",
                AttributeValue::N((usage.charged_cents + usage.excess_cents).to_string()),
            )
            .build()
            .map_err(build_error)
    }

    /// Puts a usage record if it is absent and counts it in its day's run aggregate, in one
    /// transaction; `Some(existing)` instead (and nothing counted) when the record exists. A
    /// transaction retried after a lost answer finds its own record, which counts as existing.
    pub(crate) async fn put_usage_counted(&self, usage: &UsageRecord) -> Result<Option<Item>, StoreError> {
        let item = encode(usage)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(self.count_run(usage)?).build(),
        ];
        let found = match self.transact(items, Retry::Transient).await? {
            Transacted::ConditionFailed(failed) if failed.index == 0 => Some(failed.old),
            other => {
                other.committed_unless(0)?;
                None
            }
        };
        match found {
            None => Ok(None),
            Some(Some(existing)) if !existing.is_empty() => Ok(Some(existing)),
            // Emulators that leave the item out of the cancellation reason: read it.
            Some(_) => {
                let key = keys::Key { pk: usage.pk.clone(), sk: usage.sk.clone() };
                Ok(Some(self.get_raw_item(&key).await?.unwrap_or_default()))
            }
        }
    }

    /// The run and cost aggregates of the days `from..=to`, in one query (paged by DynamoDB
    /// only past 1 MB, far beyond a year of aggregates).
    pub async fn daily_aggregates(
        &self,
        org: &OrganizationId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DailyAggregates, StoreError> {
        let low = format!("COSTAGG#{}", day_of(from));
        let high = format!("COSTAGG#{}~", day_of(to));
        let pk = keys::org_partition(org);
        let (items, _) = self.query_range(&pk, &low, &high, None, None, usize::MAX, Order::OldestFirst).await?;
        let mut out = DailyAggregates::default();
        for (key, item) in items {
            if is_run_day(&key.sk) {
                out.runs.push(decode(&key, item)?);
            } else {
                out.costs.push(decode(&key, item)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_aggregate_sorts_inside_its_days_cost_range_and_is_never_a_cost_aggregate_key() {
        let org = OrganizationId::parse("acme").unwrap();
        let key = run_day_key(&org, "2026-11-23");
        assert!(key.sk.as_str() >= "COSTAGG#2026-11-23" && key.sk.as_str() <= "COSTAGG#2026-11-23~");
        assert!(key.sk.as_str() > "COSTAGG#2026-11-22~" && key.sk.as_str() < "COSTAGG#2026-11-24");
        assert!(is_run_day(&key.sk));
        assert!(!crate::usage::rules::message::is_model_name("~runs"), "no provider can end a cost key like this");
        assert!(!is_run_day("COSTAGG#2026-11-23#openai#gpt-4o"));
    }
}
