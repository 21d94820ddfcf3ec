//! The monthly close list: which accounts still have a month to close.
//!
//! Every account has one marker item (`ORG#<org>` / `CLOSE`) naming the next month to close.
//! It is listed in the keys-only GSI3 under `CLOSE#<yyyy-mm>#<shard>` (16 shards by a hash of
//! the organization), so the close job reads 16 index partitions of that month: its cost
//! follows the accounts to close, and no index key is shared by every account. Closing a
//! month moves the marker to the next one with a write conditioned on the month it read.
//!
//! The month's own lines (storage, LLM tokens) are billed once: the draft that carries them
//! is started together with `ORG#<org>` / `MONTHCHARGES#<yyyy-mm>`, written only if absent.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;
use crate::invoicing::rules::MonthBilled;
use crate::store::work_index::{self, SHARDS};
use crate::store::{Store, StoreError, encode, key_item, keys, written};

pub const CLOSE_SHARDS: u32 = SHARDS;

fn marker_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "CLOSE".to_owned() }
}

/// The index partition of an organization's marker for `month`.
pub fn close_partition(org: &OrganizationId, month: &str) -> String {
    work_index::partition(&format!("CLOSE#{month}#"), org)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseMarker {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI3PK")]
    pub index_pk: String,
    #[serde(rename = "GSI3SK")]
    pub index_sk: String,
    pub organization_id: OrganizationId,
    /// `YYYY-MM`: the next month to close.
    pub month: String,
}

fn month_charges_key(org: &OrganizationId, month: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: format!("MONTHCHARGES#{month}") }
}

/// What has been billed of a month's own lines: its storage (by the invoice that first
/// billed the month) and its LLM cost so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthChargesMarker {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub month: String,
    /// The last invoice that billed something of the month.
    pub invoice_id: String,
    #[serde(default)]
    pub llm_billed_micros: i64,
}

/// The put that records what `invoice_id` bills of a month, only if no other invoice billed
/// anything of it since it was read.
pub(crate) fn month_charges_put(
    table: &str,
    org: &OrganizationId,
    billed: &MonthBilled,
    invoice_id: &str,
) -> Result<aws_sdk_dynamodb::types::Put, StoreError> {
    let key = month_charges_key(org, &billed.month);
    let marker = MonthChargesMarker {
        pk: key.pk,
        sk: key.sk,
        organization_id: org.clone(),
        month: billed.month.clone(),
        invoice_id: invoice_id.to_owned(),
        llm_billed_micros: billed.llm_billed_after,
    };
    let put = aws_sdk_dynamodb::types::Put::builder().table_name(table).set_item(Some(encode(&marker)?));
    let put = match billed.llm_billed_before {
        None => put.condition_expression("attribute_not_exists(PK)"),
        Some(before) => put
            .condition_expression("llm_billed_micros = :before")
            .expression_attribute_values(":before", AttributeValue::N(before.to_string())),
    };
    put.build().map_err(super::build_err)
}

impl Store {
    /// What was billed of `month`'s own lines, if anything was.
    pub async fn month_charges_billed(
        &self,
        org: &OrganizationId,
        month: &str,
    ) -> Result<Option<MonthChargesMarker>, StoreError> {
        self.get_item(month_charges_key(org, month)).await
    }

    /// Lists the account for closing `month`, unless it already has a marker.
    pub async fn schedule_close(&self, org: &OrganizationId, month: &str) -> Result<bool, StoreError> {
        let key = marker_key(org);
        let marker = CloseMarker {
            pk: key.pk,
            sk: key.sk,
            index_pk: close_partition(org, month),
            index_sk: org.to_string(),
            organization_id: org.clone(),
            month: month.to_owned(),
        };
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&marker)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        written("PutItem", result)
    }

    pub async fn close_marker(&self, org: &OrganizationId) -> Result<Option<CloseMarker>, StoreError> {
        self.get_item(marker_key(org)).await
    }

    /// Moves the marker from `closed` to `next`; `false` if it no longer names `closed`.
    pub async fn advance_close(&self, org: &OrganizationId, closed: &str, next: &str) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&marker_key(org))))
            .update_expression("SET #month = :next, GSI3PK = :pk")
            .condition_expression("#month = :closed")
            .expression_attribute_names("#month", "month")
            .expression_attribute_values(":next", AttributeValue::S(next.to_owned()))
            .expression_attribute_values(":pk", AttributeValue::S(close_partition(org, next)))
            .expression_attribute_values(":closed", AttributeValue::S(closed.to_owned()))
            .send()
            .await;
        written("UpdateItem", result)
    }

    /// The accounts whose marker names `month` in one of the [`CLOSE_SHARDS`] shards.
    pub async fn accounts_to_close(&self, month: &str, shard: u32) -> Result<Vec<OrganizationId>, StoreError> {
        let pk = work_index::shard_partition(&format!("CLOSE#{month}#"), shard);
        let entries = self.index_entries(&pk, None).await?;
        Ok(entries
            .iter()
            .filter_map(|item| {
                item.get("GSI3SK").and_then(|v| v.as_s().ok()).and_then(|s| OrganizationId::parse(s).ok())
            })
            .collect())
    }
}
