//! Usage records (one per committed run) and credit ledger entries (one per change to an
//! account's total credit balance), as stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::OrganizationId;
use super::money::Cents;
use super::quota::{Bucket, Hold, RunKind, Settle, Settlement};

/// `ORG#<org>` / `USAGE#<hold created_at>#<run_id>`: the key is derived from the hold, so
/// the same run can never produce two records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    /// Sparse index entry present only while something remains to invoice.
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
    /// Cost reported by the workflow engine, whatever bucket paid.
    pub actual_cost_cents: Option<Cents>,
    pub billed: bool,
    pub invoice_id: Option<String>,
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
        // Included and prepaid runs are settled on the spot; overage waits for an invoice.
        let invoiceable = match hold.bucket {
            Bucket::Overage => settle.charged_cents + settle.excess_cents,
            _ => settle.excess_cents,
        };
        let billed = invoiceable == 0;
        Self {
            pk: format!("ORG#{org}"),
            sk: Self::sort_key(hold, run_id),
            unbilled_pk: (!billed).then(|| format!("UNBILLED#{org}")),
            unbilled_sk: (!billed).then(|| now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
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
            actual_cost_cents,
            billed,
            invoice_id: None,
            details,
            recorded_at: now,
            billed_at: billed.then_some(now),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// `ORG#<org>` / `RUN#<run_id>`: how a run was settled, written in the same transaction as
/// the settlement, so late commit/release retries get the first answer. Expires by TTL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub run_id: String,
    pub settlement: Settlement,
    /// Unix seconds; DynamoDB's TTL removes the record after this.
    pub expires_at: i64,
}

/// How long run records answer retries.
pub const RUN_RECORD_DAYS: i64 = 90;

impl RunRecord {
    pub fn sort_key(run_id: &str) -> String {
        format!("RUN#{run_id}")
    }

    pub fn new(org: &OrganizationId, run_id: &str, settlement: Settlement) -> Self {
        let expires_at = (settlement.at + chrono::Duration::days(RUN_RECORD_DAYS)).timestamp();
        Self { pk: format!("ORG#{org}"), sk: Self::sort_key(run_id), run_id: run_id.to_owned(), settlement, expires_at }
    }
}
