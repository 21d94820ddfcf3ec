//! Usage, cost and budget shapes: the usage queue's messages, and the frontend guide's
//! `CostRecordResponse` and `CostSummaryResponse`, plus budgets.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::OrganizationId;
use crate::domain::budget::Budget;
use crate::domain::costs::{CostRecord, Payer, micros_to_usd};
use crate::domain::money::dollars;
use crate::store::costs::CostAggregate;

/// A message on the usage queue, as the workflow engine sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum UsageMessage {
    RunCompleted {
        event_id: String,
        organization_id: OrganizationId,
        run_id: String,
        #[serde(default, deserialize_with = "super::usd::option::deserialize")]
        actual_cost_usd: Option<Decimal>,
        #[serde(default)]
        overage_approved: bool,
        #[serde(default)]
        details: Option<serde_json::Value>,
    },
    RunFailed {
        event_id: String,
        organization_id: OrganizationId,
        run_id: String,
        #[serde(default)]
        reason: Option<String>,
    },
    RunCancelled {
        event_id: String,
        organization_id: OrganizationId,
        run_id: String,
        #[serde(default)]
        reason: Option<String>,
    },
    LlmCall(LlmCall),
}

impl UsageMessage {
    pub fn organization_id(&self) -> &OrganizationId {
        match self {
            Self::RunCompleted { organization_id, .. }
            | Self::RunFailed { organization_id, .. }
            | Self::RunCancelled { organization_id, .. }
            | Self::LlmCall(LlmCall { organization_id, .. }) => organization_id,
        }
    }
}

/// An `llm_call` message: one call to an LLM provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmCall {
    pub event_id: String,
    pub organization_id: OrganizationId,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub sandbox_id: Option<String>,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(default, deserialize_with = "super::usd::option::deserialize")]
    pub prompt_cost_usd: Option<Decimal>,
    #[serde(default, deserialize_with = "super::usd::option::deserialize")]
    pub completion_cost_usd: Option<Decimal>,
    pub payer: Payer,
    pub recorded_at: DateTime<Utc>,
}

/// A provider or model name: it becomes part of aggregate keys, so `#` and spaces are out.
pub fn is_model_name(raw: &str) -> bool {
    (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
}

/// The frontend guide's `CostRecordResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRecordResponse {
    pub id: String,
    pub task_id: String,
    pub agent_id: Option<String>,
    pub sandbox_id: Option<String>,
    pub billing_account_id: Option<String>,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    #[serde(with = "rust_decimal::serde::float")]
    pub prompt_cost: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub completion_cost: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub total_cost: Decimal,
    pub recorded_at: Option<DateTime<Utc>>,
}

impl From<&CostRecord> for CostRecordResponse {
    fn from(r: &CostRecord) -> Self {
        Self {
            id: r.id.clone(),
            task_id: r.run_id.clone().unwrap_or_default(),
            agent_id: r.agent_id.clone(),
            sandbox_id: r.sandbox_id.clone(),
            billing_account_id: r.billing_account_id.clone(),
            provider: r.provider.clone(),
            model: r.model.clone(),
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            total_tokens: r.total_tokens(),
            prompt_cost: micros_to_usd(r.prompt_cost_micros),
            completion_cost: micros_to_usd(r.completion_cost_micros),
            total_cost: micros_to_usd(r.total_cost_micros()),
            recorded_at: Some(r.recorded_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdownItem {
    pub provider: String,
    pub model: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub cost: Decimal,
    pub tokens: u64,
    pub records: u64,
}

/// The frontend guide's `CostSummaryResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostSummaryResponse {
    pub scope_type: String,
    pub scope_id: Option<String>,
    #[serde(with = "rust_decimal::serde::float")]
    pub total_cost: Decimal,
    pub total_tokens: u64,
    pub record_count: u64,
    pub breakdown: Vec<CostBreakdownItem>,
}

impl CostSummaryResponse {
    pub fn from_aggregates(org: &OrganizationId, aggregates: &[CostAggregate]) -> Self {
        let mut by_model: BTreeMap<(String, String), (i64, u64, u64)> = BTreeMap::new();
        for a in aggregates {
            let entry = by_model.entry((a.provider.clone(), a.model.clone())).or_default();
            entry.0 += a.cost_micros;
            entry.1 += a.tokens;
            entry.2 += a.records;
        }
        let breakdown: Vec<CostBreakdownItem> = by_model
            .into_iter()
            .map(|((provider, model), (cost, tokens, records))| CostBreakdownItem {
                provider,
                model,
                cost: micros_to_usd(cost),
                tokens,
                records,
            })
            .collect();
        Self {
            scope_type: "organization".to_owned(),
            scope_id: Some(org.to_string()),
            total_cost: breakdown.iter().map(|b| b.cost).sum(),
            total_tokens: breakdown.iter().map(|b| b.tokens).sum(),
            record_count: breakdown.iter().map(|b| b.records).sum(),
            breakdown,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    #[serde(deserialize_with = "super::usd::deserialize")]
    pub monthly_limit_usd: Decimal,
    #[serde(default = "default_warn_percent")]
    pub warn_at_percent: u32,
    #[serde(default)]
    pub hard_cap: bool,
}

fn default_warn_percent() -> u32 {
    80
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetResponse {
    #[serde(with = "rust_decimal::serde::float_option")]
    pub monthly_limit_usd: Option<Decimal>,
    pub warn_at_percent: u32,
    pub hard_cap: bool,
    /// Billable LLM spend this calendar month (UTC).
    #[serde(with = "rust_decimal::serde::float")]
    pub month_to_date_usd: Decimal,
    pub blocked: bool,
}

impl BudgetResponse {
    pub fn new(budget: Option<&Budget>, month_to_date: Decimal, blocked: bool) -> Self {
        Self {
            monthly_limit_usd: budget.map(|b| dollars(b.monthly_limit_cents)),
            warn_at_percent: budget.map_or(80, |b| b.warn_at_percent),
            hard_cap: budget.is_some_and(|b| b.hard_cap),
            month_to_date_usd: month_to_date,
            blocked,
        }
    }
}

/// A `from`/`to` query bound: a date (`2026-11-01`) or an RFC 3339 instant.
pub fn parse_instant(raw: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let time = if end_of_day { NaiveTime::from_hms_milli_opt(23, 59, 59, 999)? } else { NaiveTime::MIN };
    Some(day.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_messages_parse_by_type_and_reject_unknown_fields() {
        let ok: UsageMessage = serde_json::from_str(
            r#"{"type":"llm_call","event_id":"e1","organization_id":"acme","provider":"openai","model":"gpt-4o",
                "prompt_tokens":10,"completion_tokens":5,"payer":"customer_key","recorded_at":"2026-11-23T09:30:00Z"}"#,
        )
        .unwrap();
        assert_eq!(ok.organization_id().as_str(), "acme");
        assert!(
            serde_json::from_str::<UsageMessage>(
                r#"{"type":"run_failed","event_id":"e","organization_id":"a","run_id":"r","x":1}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<UsageMessage>(r#"{"type":"teleport","event_id":"e"}"#).is_err());
        assert!(
            serde_json::from_str::<UsageMessage>(
                r#"{"type":"run_failed","event_id":"e","organization_id":"a b","run_id":"r"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn query_bounds_accept_dates_and_instants() {
        assert_eq!(parse_instant("2026-11-01", false).unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(parse_instant("2026-11-01", true).unwrap().to_rfc3339(), "2026-11-01T23:59:59.999+00:00");
        assert!(parse_instant("2026-11-01T10:00:00Z", false).is_some());
        assert!(parse_instant("yesterday", false).is_none());
    }
}
