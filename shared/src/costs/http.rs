//! Usage, cost and budget shapes: the usage queue's messages, and the frontend guide's
//! `CostRecordResponse` and `CostSummaryResponse`, plus budgets.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::costs::rules::budget::Budget;
use crate::costs::rules::{CostRecord, micros_to_usd};
use crate::costs::store::CostAggregate;
use crate::ids::OrganizationId;
use crate::money::dollars;

pub use crate::usage::rules::message::{LlmCall, UsageMessage, is_model_name};

/// The frontend guide's `CostRecordResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// What the provider charged for the call.
    #[serde(with = "rust_decimal::serde::float")]
    pub total_cost: Decimal,
    pub recorded_at: Option<DateTime<Utc>>,
    /// What the customer is charged: `total_cost` plus the pass-through margin for
    /// platform-paid calls, 0 for the customer's own keys. Budgets count this.
    #[serde(with = "rust_decimal::serde::float")]
    pub billable_cost: Decimal,
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
            billable_cost: micros_to_usd(r.billable_micros),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CostBreakdownItem {
    pub provider: String,
    pub model: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub cost: Decimal,
    pub tokens: u64,
    pub records: u64,
    #[serde(with = "rust_decimal::serde::float")]
    pub billable_cost: Decimal,
}

/// The frontend guide's `CostSummaryResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CostSummaryResponse {
    pub scope_type: String,
    pub scope_id: Option<String>,
    #[serde(with = "rust_decimal::serde::float")]
    pub total_cost: Decimal,
    pub total_tokens: u64,
    pub record_count: u64,
    pub breakdown: Vec<CostBreakdownItem>,
    /// Billable cost (provider cost plus margin, BYO calls excluded): what budgets count.
    #[serde(with = "rust_decimal::serde::float")]
    pub billable_cost: Decimal,
}

impl CostSummaryResponse {
    pub fn from_aggregates(org: &OrganizationId, aggregates: &[CostAggregate]) -> Self {
        let mut by_model: BTreeMap<(String, String), (i64, u64, u64, i64)> = BTreeMap::new();
        for a in aggregates {
            let entry = by_model.entry((a.provider.clone(), a.model.clone())).or_default();
            entry.0 += a.cost_micros;
            entry.1 += a.tokens;
            entry.2 += a.records;
            entry.3 += a.billable_micros;
        }
        let breakdown: Vec<CostBreakdownItem> = by_model
            .into_iter()
            .map(|((provider, model), (cost, tokens, records, billable))| CostBreakdownItem {
                provider,
                model,
                cost: micros_to_usd(cost),
                tokens,
                records,
                billable_cost: micros_to_usd(billable),
            })
            .collect();
        Self {
            scope_type: "organization".to_owned(),
            scope_id: Some(org.to_string()),
            total_cost: breakdown.iter().map(|b| b.cost).sum(),
            total_tokens: breakdown.iter().map(|b| b.tokens).sum(),
            record_count: breakdown.iter().map(|b| b.records).sum(),
            billable_cost: breakdown.iter().map(|b| b.billable_cost).sum(),
            breakdown,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    #[serde(deserialize_with = "crate::money::usd::deserialize")]
    #[schema(minimum = 0.01)]
    pub monthly_limit_usd: Decimal,
    #[serde(default = "default_warn_percent")]
    #[schema(minimum = 1, maximum = 100)]
    pub warn_at_percent: u32,
    #[serde(default)]
    pub hard_cap: bool,
}

fn default_warn_percent() -> u32 {
    80
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Query parameters of the list and summary routes that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{name} must be a date (2026-11-01) or an RFC 3339 time.")]
    InvalidInstant { name: &'static str },
    #[error("limit must be a whole number from 1 to 100.")]
    InvalidLimit,
    #[error("from ({from}) is after to ({to}){note}.")]
    OutOfOrder { from: String, to: String, note: &'static str },
}

/// The `from`/`to` bounds of a query, each optional, never out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// Parses the raw parameters; a date `to` means the end of that day.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, QueryError> {
        let bound = |raw: Option<&str>, name: &'static str, end_of_day: bool| {
            raw.map(|raw| parse_instant(raw, end_of_day).ok_or(QueryError::InvalidInstant { name })).transpose()
        };
        let range = Self { from: bound(from, "from", false)?, to: bound(to, "to", true)? };
        if let (Some(from), Some(to)) = (range.from, range.to) {
            in_order(from, to, "")?;
        }
        Ok(range)
    }

    /// The UTC days a cost summary covers: by default from the start of this month to now.
    /// One bound alone can still be out of order with the other's default.
    pub fn summary_days(&self, now: DateTime<Utc>) -> Result<(NaiveDate, NaiveDate), QueryError> {
        let from = self.from.unwrap_or_else(|| crate::period::month_start(now));
        let to = self.to.unwrap_or(now);
        let note = match (self.from, self.to) {
            (None, _) => " (from defaults to the start of this month)",
            (_, None) => " (to defaults to now)",
            _ => "",
        };
        in_order(from, to, note)?;
        Ok((from.date_naive(), to.date_naive()))
    }
}

fn in_order(from: DateTime<Utc>, to: DateTime<Utc>, note: &'static str) -> Result<(), QueryError> {
    if from > to {
        let show = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        return Err(QueryError::OutOfOrder { from: show(from), to: show(to), note });
    }
    Ok(())
}

/// A page size: 1–100, 50 when not given.
pub fn parse_limit(raw: Option<&str>) -> Result<usize, QueryError> {
    match raw {
        None => Ok(50),
        Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=100).contains(n)).ok_or(QueryError::InvalidLimit),
    }
}

// How this concern's errors reach a client (status and code).

impl From<crate::costs::http::QueryError> for crate::error::ApiError {
    fn from(err: crate::costs::http::QueryError) -> Self {
        use crate::costs::http::QueryError;
        let code = match err {
            QueryError::InvalidInstant { .. } | QueryError::InvalidLimit => "invalid_query",
            QueryError::OutOfOrder { .. } => "invalid_range",
        };
        Self::bad_request(code, err.to_string())
    }
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

    #[test]
    fn a_summary_range_is_refused_when_a_bound_is_out_of_order_with_the_other_or_its_default() {
        let now = parse_instant("2026-11-23T09:30:00Z", false).unwrap();
        let day = |raw: &str| NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap();
        let days = |from: Option<&str>, to: Option<&str>| TimeRange::parse(from, to)?.summary_days(now);
        assert_eq!(days(None, None), Ok((day("2026-11-01"), day("2026-11-23"))));
        assert_eq!(days(Some("2026-10-01"), None), Ok((day("2026-10-01"), day("2026-11-23"))));
        assert!(matches!(days(Some("2026-11-10"), Some("2026-11-01")), Err(QueryError::OutOfOrder { .. })));
        assert!(
            matches!(days(Some("2026-12-01"), None), Err(QueryError::OutOfOrder { note, .. }) if note.contains("now"))
        );
        assert!(
            matches!(days(None, Some("2026-10-31")), Err(QueryError::OutOfOrder { note, .. }) if note.contains("month"))
        );
        assert_eq!(days(Some("2026-11-23"), Some("2026-11-23")), Ok((day("2026-11-23"), day("2026-11-23"))));
    }

    #[test]
    fn page_sizes_run_from_one_to_a_hundred() {
        assert_eq!(parse_limit(None), Ok(50));
        assert_eq!(parse_limit(Some("100")), Ok(100));
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(parse_limit(Some(bad)), Err(QueryError::InvalidLimit), "{bad}");
        }
    }

    #[test]
    fn a_summary_reports_provider_cost_and_billable_cost_per_model_and_in_total() {
        let agg = |day: &str, model: &str, cost: i64, billable: i64| CostAggregate {
            day: day.into(),
            provider: "openai".into(),
            model: model.into(),
            cost_micros: cost,
            billable_micros: billable,
            tokens: 10,
            records: 1,
        };
        let org = OrganizationId::parse("acme").unwrap();
        let summary = CostSummaryResponse::from_aggregates(
            &org,
            &[
                agg("2026-11-01", "gpt-4o", 100_000, 120_000),
                agg("2026-11-02", "gpt-4o", 50_000, 0),
                agg("2026-11-02", "o3", 10_000, 12_000),
            ],
        );
        assert_eq!((summary.total_cost, summary.billable_cost), (Decimal::new(16, 2), Decimal::new(132, 3)));
        assert_eq!(summary.breakdown[0].billable_cost, Decimal::new(12, 2));
        assert_eq!(summary.breakdown[1].billable_cost, Decimal::new(12, 3));
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(
            (&json["total_cost"], &json["billable_cost"]),
            (&serde_json::json!(0.16), &serde_json::json!(0.132))
        );
    }
}
