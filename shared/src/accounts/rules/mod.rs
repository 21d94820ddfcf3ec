//! The billing account as stored: status, tier, every quota bucket and the open holds of
//! tiers with a concurrency limit. Pure data plus read-only views; writes live in `store`.

pub mod holds;
pub mod limits;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::rules::holds::Hold;
use crate::accounts::rules::limits::LimitOverrides;
use crate::money::Cents;
use crate::{catalog::rules::TierId, ids::OrganizationId, period};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Pending,
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// One organization's billing account (`ORG#<org>` / `ACCOUNT`).
///
/// Money is integer cents. The free quota and the subscription usage are tagged with the
/// period they belong to, so a new period is recognised (and reset) lazily by the next write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    pub organization_id: OrganizationId,
    pub status: AccountStatus,
    pub tier: TierId,
    pub stripe_customer_id: Option<String>,
    pub has_payment_method: bool,
    /// `YYYY-MM` the `free_remaining` count belongs to.
    pub free_period: String,
    pub free_remaining: u32,
    /// Prepaid credits available to spend (open holds already subtracted).
    pub credit_balance_cents: Cents,
    /// Prepaid credits set aside by open holds.
    pub credit_held_cents: Cents,
    /// The subscription period `period_used` counts in (a calendar month for lifetime plans,
    /// the Stripe billing period for subscriptions).
    pub usage_period: String,
    pub period_used: u32,
    pub auto_billing_enabled: bool,
    pub billing_email: Option<String>,
    pub tax_exempt: bool,
    pub total_workflows_completed: u64,
    pub total_spent_cents: Cents,
    /// Open reservations by run id, bounded by the tier's concurrency limit. Tiers without a
    /// limit keep their holds in run items instead, so this map never grows with load.
    #[serde(default)]
    pub holds: BTreeMap<String, Hold>,
    /// `YYYY-MM` in which a hard-capped budget was exceeded: no new runs that month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_blocked_period: Option<String>,
    /// An operator's limits for this account (see `domain::limits`).
    #[serde(default, skip_serializing_if = "LimitOverrides::is_empty")]
    pub limit_overrides: LimitOverrides,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every write.
    pub version: u64,
    /// The operators' directory entry (index `GSI4`): written once when the account is
    /// created and never changed, so the hot writes of the account never touch that index.
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    pub directory_partition: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    pub directory_key: Option<String>,
}

impl Account {
    /// A brand-new account on the free tier with this month's free quota.
    pub fn new_free(org: &OrganizationId, now: DateTime<Utc>, free_workflows: u32, free_tier: TierId) -> Self {
        let month = period::month_key(now);
        Self {
            pk: format!("ORG#{org}"),
            sk: "ACCOUNT".to_owned(),
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: org.clone(),
            status: AccountStatus::Active,
            tier: free_tier,
            stripe_customer_id: None,
            has_payment_method: false,
            free_period: month.clone(),
            free_remaining: free_workflows,
            credit_balance_cents: 0,
            credit_held_cents: 0,
            usage_period: month,
            period_used: 0,
            auto_billing_enabled: false,
            billing_email: None,
            tax_exempt: false,
            total_workflows_completed: 0,
            total_spent_cents: 0,
            holds: BTreeMap::new(),
            limit_overrides: LimitOverrides::default(),
            budget_blocked_period: None,
            created_at: now,
            updated_at: now,
            version: 1,
            directory_partition: None,
            directory_key: None,
        }
    }

    /// Free workflows left at `now`: a count from an earlier month reads as a full quota.
    pub fn free_remaining_at(&self, now: DateTime<Utc>, monthly_quota: u32) -> u32 {
        if self.free_period == period::month_key(now) { self.free_remaining } else { monthly_quota }
    }
}
