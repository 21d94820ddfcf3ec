//! Shapes of the operators' account routes: the directory (`GET admin/accounts`) and one
//! account in full (`GET admin/accounts/{org}`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::accounts::rules::Account;
use crate::accounts::rules::limits::{LimitOverrides, LimitsInForce};
use crate::costs::http::BudgetResponse;
use crate::credits::http::LedgerLine;
use crate::flags::rules::FlagSource;
use crate::invoicing::http::{CreditNoteResponse, InvoiceResponse};
use crate::money::dollars;
use crate::operators::http::AuditEntryResponse;
use crate::operators::store::directory::DirectoryEntry;
use crate::quota::rules::{Bucket, RunKind};
use crate::subscriptions::http::SubscriptionResponse;

/// One account in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountSummary {
    pub organization_id: String,
    /// `pending`, `active` or `suspended`.
    pub status: String,
    pub tier: String,
    pub stripe_customer_id: Option<String>,
    pub billing_email: Option<String>,
    pub suspension_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&DirectoryEntry> for AccountSummary {
    fn from(e: &DirectoryEntry) -> Self {
        Self {
            organization_id: e.organization_id.to_string(),
            status: e.status.as_str().to_owned(),
            tier: e.tier.to_string(),
            stripe_customer_id: e.stripe_customer_id.clone(),
            billing_email: e.billing_email.clone(),
            suspension_reason: e.suspension_reason.clone(),
            created_at: e.created_at,
        }
    }
}

/// The account item as an operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountState {
    pub organization_id: String,
    pub status: String,
    pub tier: String,
    pub stripe_customer_id: Option<String>,
    pub billing_email: Option<String>,
    pub has_payment_method: bool,
    #[serde(with = "rust_decimal::serde::float")]
    pub credits_available_usd: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub credits_held_usd: Decimal,
    pub free_period: String,
    pub free_remaining: u32,
    pub usage_period: String,
    pub period_used: u32,
    pub total_workflows_completed: u64,
    #[serde(with = "rust_decimal::serde::float")]
    pub total_spent_usd: Decimal,
    pub budget_blocked_period: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl From<&Account> for AccountState {
    fn from(a: &Account) -> Self {
        Self {
            organization_id: a.organization_id.to_string(),
            status: a.status.as_str().to_owned(),
            tier: a.tier.to_string(),
            stripe_customer_id: a.stripe_customer_id.clone(),
            billing_email: a.billing_email.clone(),
            has_payment_method: a.has_payment_method,
            credits_available_usd: dollars(a.credit_balance_cents),
            credits_held_usd: dollars(a.credit_held_cents),
            free_period: a.free_period.clone(),
            free_remaining: a.free_remaining,
            usage_period: a.usage_period.clone(),
            period_used: a.period_used,
            total_workflows_completed: a.total_workflows_completed,
            total_spent_usd: dollars(a.total_spent_cents),
            budget_blocked_period: a.budget_blocked_period.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            version: a.version,
        }
    }
}

/// An open reservation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenHold {
    pub run_id: String,
    pub kind: RunKind,
    pub bucket: Bucket,
    /// Credits set aside, or the overage price to invoice.
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_usd: Decimal,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A flag's value for the organization and which level decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagValue {
    pub enabled: bool,
    pub source: FlagSource,
}

/// `GET admin/accounts/{org}`: everything an operator needs to answer a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountDetailResponse {
    pub account: AccountState,
    /// The suspension's reason and an operator's note, while suspended.
    pub suspension_reason: Option<String>,
    pub suspension_note: Option<String>,
    pub subscription: SubscriptionResponse,
    pub limits: LimitsInForce,
    pub overrides: LimitOverrides,
    /// Open reservations: the account's own and those kept in run items.
    pub open_holds: Vec<OpenHold>,
    /// `false` when there were more run items than one read covers; the list is a prefix.
    pub open_holds_complete: bool,
    /// The 20 most recent ledger entries, newest first.
    pub recent_ledger: Vec<LedgerLine>,
    /// The 10 most recent invoices, newest first.
    pub recent_invoices: Vec<InvoiceResponse>,
    /// The 10 most recent credit notes (what voids wrote off), newest first.
    pub credit_notes: Vec<CreditNoteResponse>,
    pub budget: BudgetResponse,
    /// Every defined flag, evaluated for the organization.
    pub flags: BTreeMap<String, FlagValue>,
    /// The organization's own flag overrides.
    pub flag_overrides: BTreeMap<String, bool>,
    /// The 10 most recent audit entries, newest first.
    pub recent_audit: Vec<AuditEntryResponse>,
}
