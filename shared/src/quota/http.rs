//! Shapes of the quota routes used by the workflow engine, and of the quota standing the
//! frontend shows.

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::accounts::rules::Account;
use crate::money::dollars;
use crate::quota::rules::{self as quota, Bucket, Hold, Outcome, RunKind, Settlement};
use crate::{catalog::rules::Catalog, period};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationRequest {
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub run_id: String,
    pub kind: RunKind,
    #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
    #[schema(minimum = 0)]
    pub estimated_cost_usd: Option<Decimal>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// What the run actually cost; defaults to the amount held.
    #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
    #[schema(minimum = 0)]
    pub actual_cost_usd: Option<Decimal>,
    /// Allows settling above the hold; the excess is invoiced as overage.
    #[serde(default)]
    pub overage_approved: bool,
    /// Free-form run details kept on the usage record.
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

pub use crate::money::usd::amount_to_cents;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReservationResponse {
    pub run_id: String,
    pub organization_id: String,
    pub kind: RunKind,
    pub bucket: Bucket,
    /// Workflows taken from the free or subscription quota (0 or 1).
    pub workflows_held: u32,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_held_usd: Decimal,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl ReservationResponse {
    pub fn new(org: &str, run_id: &str, hold: &Hold) -> Self {
        Self {
            run_id: run_id.to_owned(),
            organization_id: org.to_owned(),
            kind: hold.kind,
            bucket: hold.bucket,
            workflows_held: u32::from(matches!(hold.bucket, Bucket::Free | Bucket::Subscription)),
            amount_held_usd: if hold.bucket == Bucket::Credits { dollars(hold.amount_cents) } else { Decimal::ZERO },
            created_at: hold.created_at,
            expires_at: Utc.timestamp_opt(hold.expires_at, 0).single().unwrap_or(hold.created_at),
        }
    }
}

/// Answer of a dry-run check: what reserve would do now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReservationCheckResponse {
    pub allowed: bool,
    pub bucket: Option<Bucket>,
    pub code: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseResponse {
    pub run_id: String,
    pub outcome: Outcome,
    pub bucket: Bucket,
    pub workflows_returned: u32,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_returned_usd: Decimal,
}

impl ReleaseResponse {
    pub fn new(run_id: &str, settlement: &Settlement) -> Self {
        let hold = &settlement.hold;
        Self {
            run_id: run_id.to_owned(),
            outcome: settlement.outcome,
            bucket: hold.bucket,
            workflows_returned: u32::from(matches!(hold.bucket, Bucket::Free | Bucket::Subscription)),
            amount_returned_usd: if hold.bucket == Bucket::Credits {
                dollars(hold.amount_cents)
            } else {
                Decimal::ZERO
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FreeStanding {
    pub remaining: u32,
    pub limit: u32,
    pub resets_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditStanding {
    #[serde(with = "rust_decimal::serde::float")]
    pub available: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub held: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionStanding {
    pub used: u32,
    /// `null` means unlimited.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunStanding {
    pub active: u32,
    /// `null` means unlimited.
    pub limit: Option<u32>,
}

/// `GET /account/{organization_id}/quota`: every bucket at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuotaStandingResponse {
    pub organization_id: String,
    pub tier: String,
    pub status: String,
    pub free: FreeStanding,
    pub credits: CreditStanding,
    pub subscription: SubscriptionStanding,
    pub runs: RunStanding,
    pub overage_allowed: bool,
}

impl QuotaStandingResponse {
    pub fn at(account: &Account, catalog: &Catalog, now: DateTime<Utc>) -> Self {
        let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
        let limits = quota::limits_of(account, tier, now);
        let free_limit = catalog.free_workflows_per_month();
        let paid = tier.billing != crate::catalog::rules::TierBilling::Free;
        let used = if quota::current_usage_period(account, tier, now) == account.usage_period {
            account.period_used
        } else {
            0
        };
        Self {
            organization_id: account.organization_id.to_string(),
            tier: account.tier.to_string(),
            status: account.status.as_str().to_owned(),
            free: FreeStanding {
                remaining: account.free_remaining_at(now, free_limit),
                limit: free_limit,
                resets_at: period::next_month_start(now),
            },
            credits: CreditStanding {
                available: dollars(account.credit_balance_cents),
                held: dollars(account.credit_held_cents),
            },
            subscription: SubscriptionStanding {
                used: if paid { used } else { 0 },
                limit: if paid { limits.workflows_per_period } else { Some(0) },
            },
            runs: RunStanding { active: u32::try_from(account.holds.len()).unwrap_or(u32::MAX), limit: limits.agents },
            overage_allowed: paid && account.has_payment_method,
        }
    }
}

/// The frontend guide's `UsageRecordResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageRecordResponse {
    pub id: String,
    pub billing_account_id: String,
    pub ticket_id: Option<String>,
    pub usage_type: String,
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::float")]
    pub unit_price: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub total_price: Decimal,
    pub free_tier_used: bool,
    pub invoice_id: Option<String>,
    pub billed: bool,
    pub usage_details: Option<serde_json::Value>,
    pub recorded_at: Option<DateTime<Utc>>,
    pub billed_at: Option<DateTime<Utc>>,
}

impl From<&crate::usage::rules::UsageRecord> for UsageRecordResponse {
    fn from(record: &crate::usage::rules::UsageRecord) -> Self {
        let total = dollars(record.charged_cents + record.excess_cents);
        let mut details = serde_json::json!({
            "run_id": record.run_id,
            "kind": record.kind,
            "bucket": record.bucket,
            "actual_cost_usd": record.actual_cost_cents.map(|c| dollars(c).to_string()),
            "overage_usd": dollars(record.excess_cents).to_string(),
        });
        if let (Some(extra), Some(map)) = (&record.details, details.as_object_mut()) {
            map.insert("run".into(), extra.clone());
        }
        Self {
            id: record.id.clone(),
            billing_account_id: record.billing_account_id.clone(),
            ticket_id: None,
            usage_type: record.usage_type.clone(),
            quantity: record.quantity,
            unit_price: total / Decimal::from(record.quantity.max(1)),
            total_price: total,
            free_tier_used: record.bucket == Bucket::Free,
            invoice_id: record.invoice_id.clone(),
            billed: record.billed,
            usage_details: Some(details),
            recorded_at: Some(record.recorded_at),
            billed_at: record.billed_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommitResponse {
    pub run_id: String,
    pub outcome: Outcome,
    pub usage: UsageRecordResponse,
}

// How this concern's errors reach a client (status and code).

impl From<crate::quota::store::QuotaError> for crate::error::ApiError {
    fn from(err: crate::quota::store::QuotaError) -> Self {
        use crate::quota::rules::{Outcome, Refusal};
        use crate::quota::store::QuotaError;
        match err {
            QuotaError::Refused(refusal @ Refusal::Suspended) => {
                Self::forbidden(refusal.code(), "The billing account is suspended; no new runs can start.")
            }
            QuotaError::Refused(refusal @ Refusal::Exhausted) => Self::PaymentRequired {
                code: refusal.code(),
                detail: "No free workflows, credits, subscription quota or overage allowance is left for this run."
                    .into(),
            },
            QuotaError::Refused(refusal @ Refusal::BudgetExceeded) => Self::PaymentRequired {
                code: refusal.code(),
                detail: "This month's budget is spent and capped; raise the budget or wait for next month.".into(),
            },
            QuotaError::Refused(ref refusal @ Refusal::ConcurrencyFull { limit, retry_after_secs }) => {
                Self::TooManyRequests {
                    code: refusal.code(),
                    detail: format!("All {limit} concurrent run slots of this plan are in use."),
                    retry_after_secs,
                }
            }
            QuotaError::AlreadySettled { run_id, outcome } => match outcome {
                Outcome::Expired => Self::Gone {
                    code: "reservation_expired",
                    detail: format!("The reservation for run {run_id} expired and its quota was returned."),
                },
                outcome => Self::Conflict {
                    code: "reservation_settled",
                    detail: format!("The reservation for run {run_id} was already {}.", outcome.as_str()),
                },
            },
            QuotaError::NotFound(run_id) => {
                Self::not_found("reservation_not_found", format!("There is no reservation for run {run_id}."))
            }
            QuotaError::ExceedsHold(e) => Self::Conflict {
                code: "exceeds_hold",
                detail: format!(
                    "The actual cost ${} is above the ${} held; set overage_approved to bill the difference.",
                    crate::money::dollars(e.actual_cents),
                    crate::money::dollars(e.held_cents)
                ),
            },
            QuotaError::Contended => Self::TooManyRequests {
                code: "account_busy",
                detail: "Too many simultaneous changes to this account; retry shortly.".into(),
                retry_after_secs: 1,
            },
            QuotaError::Store(e) => e.into(),
        }
    }
}
