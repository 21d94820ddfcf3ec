//! Usage records (one per committed run) and credit ledger entries (one per change to an
//! account's total credit balance), as stored.

pub mod message;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;
use crate::money::Cents;
use crate::quota::rules::{Bucket, Hold, RunKind, Settle, Settlement};

/// `ORG#<org>` / `USAGE#<hold created_at>#<run_id>`: the key is derived from the hold, so
/// the same run can never produce two records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    /// Sparse index entry (`UNBILLED#<org>`, recorded time) present until an invoice claims
    /// the record.
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub unbilled_pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub unbilled_sk: Option<String>,
    pub id: String,
    pub organization_id: OrganizationId,
    pub billing_account_id: String,
    pub run_id: String,
    pub usage_type: String,
    pub kind: RunKind,
    pub bucket: Bucket,
    pub quantity: u32,
    /// What the run cost the customer: taken from credits, or to invoice.
    pub charged_cents: Cents,
    /// Approved cost above the hold, invoiced as overage.
    pub excess_cents: Cents,
    /// Reported cost above the hold that the customer did not allow: recorded, not charged.
    #[serde(default)]
    pub capped_cents: Cents,
    /// Why `capped_cents` was not charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_reason: Option<String>,
    /// Cost reported by the workflow engine, whatever bucket paid.
    pub actual_cost_cents: Option<Cents>,
    pub billed: bool,
    pub invoice_id: Option<String>,
    /// Kept as JSON text: DynamoDB's number and nesting limits never apply to what a caller
    /// sends, only the size bound checked by [`RunDetails`].
    #[serde(default, with = "json_text")]
    pub details: Option<serde_json::Value>,
    pub recorded_at: DateTime<Utc>,
    pub billed_at: Option<DateTime<Utc>>,
}

impl UsageRecord {
    pub fn sort_key(hold: &Hold, run_id: &str) -> String {
        format!("USAGE#{}#{run_id}", hold.created_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn for_commit(
        org: &OrganizationId,
        account_id: &str,
        run_id: &str,
        hold: &Hold,
        settle: Settle,
        actual_cost_cents: Option<Cents>,
        details: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Self {
        // Every run goes on an invoice (free and included runs at $0, credit-paid ones as
        // paid with credits), so `billed` means "on an invoice" for all of them; the sparse
        // index entry stays until the invoice claims the record.
        Self {
            pk: format!("ORG#{org}"),
            sk: Self::sort_key(hold, run_id),
            unbilled_pk: Some(format!("UNBILLED#{org}")),
            unbilled_sk: Some(now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: org.clone(),
            billing_account_id: account_id.to_owned(),
            run_id: run_id.to_owned(),
            usage_type: "workflow_run".to_owned(),
            kind: hold.kind,
            bucket: hold.bucket,
            quantity: 1,
            charged_cents: settle.charged_cents,
            excess_cents: settle.excess_cents,
            capped_cents: settle.capped_cents,
            cap_reason: (settle.capped_cents > 0)
                .then(|| "cost above the hold without overage approval or a payment method on file".to_owned()),
            actual_cost_cents,
            billed: false,
            invoice_id: None,
            details,
            recorded_at: now,
            billed_at: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Purchase,
    Grant,
    Consume,
    Refund,
    InvoiceApplication,
}

/// `ORG#<org>` / `LEDGER#<ts>#<idempotency key>`: one change to the account's total credit
/// balance (available + held). Holds and releases move credit between available and held
/// without changing the total, so they are visible on the account and its holds instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    pub organization_id: OrganizationId,
    pub kind: LedgerKind,
    /// Signed change to the total credit balance.
    pub amount_cents: Cents,
    pub idempotency_key: String,
    pub reason: String,
    pub run_id: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

impl LedgerEntry {
    pub fn new(
        org: &OrganizationId,
        kind: LedgerKind,
        amount_cents: Cents,
        idempotency_key: String,
        reason: impl Into<String>,
        actor: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: format!("ORG#{org}"),
            sk: format!("LEDGER#{}#{idempotency_key}", now.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: org.clone(),
            kind,
            amount_cents,
            idempotency_key,
            reason: reason.into(),
            run_id: None,
            actor: actor.into(),
            created_at: now,
        }
    }
}

/// `ORG#<org>` / `RUN#<run_id>`: the one durable fact about a run id.
///
/// For tiers without a concurrency limit it holds the open hold itself (`open`), listed in
/// the sweep index until settled. For every tier it records the settlement decision
/// (`settlement`) *before* the account changes, so every step after it can be completed by a
/// retry or by the sweeper, and a run id is charged at most once while the record lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub run_id: String,
    /// The billing account the run item belongs to (for its usage record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Hold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    /// The usage record a commit decided to write, so whoever completes the settlement
    /// (a retry, or the sweeper after a crash) writes exactly this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageRecord>,
    /// Unix seconds; DynamoDB's TTL removes a settled record after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// How long run records answer retries.
pub const RUN_RECORD_DAYS: i64 = 90;

impl RunRecord {
    pub fn sort_key(run_id: &str) -> String {
        format!("RUN#{run_id}")
    }

    pub fn settled(org: &OrganizationId, run_id: &str, settlement: Settlement, usage: Option<UsageRecord>) -> Self {
        let expires_at = (settlement.at + chrono::Duration::days(RUN_RECORD_DAYS)).timestamp();
        Self {
            pk: format!("ORG#{org}"),
            sk: Self::sort_key(run_id),
            run_id: run_id.to_owned(),
            account_id: None,
            open: None,
            settlement: Some(settlement),
            usage,
            expires_at: Some(expires_at),
        }
    }

    pub fn opened(org: &OrganizationId, run_id: &str, account_id: &str, hold: Hold) -> Self {
        Self {
            pk: format!("ORG#{org}"),
            sk: Self::sort_key(run_id),
            run_id: run_id.to_owned(),
            account_id: Some(account_id.to_owned()),
            open: Some(hold),
            settlement: None,
            usage: None,
            expires_at: None,
        }
    }
}

/// Free-form run details from the workflow engine, bounded so a usage record always fits
/// an item and renders back as sent.
pub struct RunDetails;

impl RunDetails {
    /// Largest accepted details, as compact JSON.
    pub const MAX_BYTES: usize = 4096;
    /// Deepest accepted nesting of objects and arrays.
    pub const MAX_DEPTH: usize = 16;

    pub fn check(value: &serde_json::Value) -> Result<(), String> {
        let size = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
        if size > Self::MAX_BYTES {
            return Err(format!("details are {size} bytes as JSON; at most {} are kept", Self::MAX_BYTES));
        }
        if depth(value) > Self::MAX_DEPTH {
            return Err(format!("details nest deeper than {} levels", Self::MAX_DEPTH));
        }
        Ok(())
    }
}

fn depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// `Option<serde_json::Value>` stored as a JSON string attribute.
mod json_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<serde_json::Value>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_some(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| serde_json::from_str(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_bounded_in_size_and_depth() {
        assert_eq!(RunDetails::check(&serde_json::json!({"steps": 3, "big": 1e300})), Ok(()));
        let wide = serde_json::json!({ "x": "a".repeat(RunDetails::MAX_BYTES) });
        assert!(RunDetails::check(&wide).unwrap_err().contains("bytes"));
        let mut deep = serde_json::json!(1);
        for _ in 0..=RunDetails::MAX_DEPTH {
            deep = serde_json::json!([deep]);
        }
        assert!(RunDetails::check(&deep).unwrap_err().contains("deeper"));
    }

    #[test]
    fn details_round_trip_through_an_item_as_text() {
        let details = serde_json::json!({"n": 123456789012345678901234567890.0, "nested": {"a": [1, 2]}});
        #[derive(Serialize, Deserialize)]
        struct Holder {
            #[serde(with = "json_text")]
            details: Option<serde_json::Value>,
        }
        let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            serde_dynamo::to_item(Holder { details: Some(details.clone()) }).unwrap();
        assert!(item["details"].is_s());
        let back: Holder = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back.details, Some(details));
    }
}
