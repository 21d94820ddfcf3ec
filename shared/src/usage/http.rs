//! The daily series behind the usage charts: for each UTC day of a range, runs by the bucket
//! that paid for them, what they cost the customer and the day's LLM cost. Every day of the
//! range is present (zeros for a quiet day), so a chart has no gaps.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::costs::rules::micros_to_usd;
use crate::ids::OrganizationId;
use crate::money::dollars;
use crate::usage::store::DailyAggregates;

/// Days answered when the query names no range: the last 30, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range one request may ask for (a leap year).
pub const MAX_DAYS: i64 = 366;

/// `from`/`to` of the daily series that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayRangeError {
    #[error("{name} must be a date such as 2026-11-01.")]
    InvalidDate { name: &'static str },
    #[error("from ({from}) is after to ({to}){note}.")]
    OutOfOrder { from: NaiveDate, to: NaiveDate, note: &'static str },
    #[error("The range covers {days} days; at most 366 are served at once.")]
    TooLong { days: i64 },
}

/// The UTC days `from..=to` a request asks for: by default the 30 days ending `to`, and `to`
/// defaults to `today`.
pub fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), DayRangeError> {
    let date = |raw: Option<&str>, name: &'static str| {
        raw.map(|raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| DayRangeError::InvalidDate { name }))
            .transpose()
    };
    let (given_from, given_to) = (date(from, "from")?, date(to, "to")?);
    let to = given_to.unwrap_or(today);
    let from = given_from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        let note = if given_to.is_none() { " (to defaults to today)" } else { "" };
        return Err(DayRangeError::OutOfOrder { from, to, note });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS {
        return Err(DayRangeError::TooLong { days });
    }
    Ok((from, to))
}

/// Runs settled on a day, by the quota bucket that paid for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunsByBucket {
    /// From the monthly free quota.
    pub free: u64,
    /// Paid with prepaid credits.
    pub credits: u64,
    /// Included in the subscription.
    pub subscription: u64,
    /// Beyond the subscription, invoiced.
    pub overage: u64,
    /// On a tier without a quota (enterprise, bring-your-own keys).
    pub unlimited: u64,
}

impl RunsByBucket {
    pub fn total(&self) -> u64 {
        self.free + self.credits + self.subscription + self.overage + self.unlimited
    }
}

/// One UTC day of the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DailyUsage {
    pub date: NaiveDate,
    pub runs: RunsByBucket,
    /// Every run settled that day (the sum of `runs`).
    pub total_runs: u64,
    /// What the day's runs cost the customer in dollars: the sum of its usage records'
    /// `total_price` (credits taken, overage invoiced; free and included runs are 0).
    #[serde(with = "rust_decimal::serde::float")]
    pub run_charges: Decimal,
    /// What the LLM providers charged that day (BYO-key calls included), as `total_cost` of
    /// the cost summary.
    #[serde(with = "rust_decimal::serde::float")]
    pub llm_cost: Decimal,
    /// What the customer pays for that day's LLM calls (provider cost plus margin, BYO calls
    /// excluded), as `billable_cost` of the cost summary.
    #[serde(with = "rust_decimal::serde::float")]
    pub llm_billable_cost: Decimal,
}

impl DailyUsage {
    fn quiet(date: NaiveDate) -> Self {
        Self {
            date,
            runs: RunsByBucket::default(),
            total_runs: 0,
            run_charges: Decimal::ZERO,
            llm_cost: Decimal::ZERO,
            llm_billable_cost: Decimal::ZERO,
        }
    }
}

/// `GET .../usage/daily`: every day of `from..=to`, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DailyUsageResponse {
    pub organization_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<DailyUsage>,
}

impl DailyUsageResponse {
    pub fn from_aggregates(org: &OrganizationId, from: NaiveDate, to: NaiveDate, found: &DailyAggregates) -> Self {
        let mut days: BTreeMap<NaiveDate, DailyUsage> =
            from.iter_days().take_while(|d| *d <= to).map(|d| (d, DailyUsage::quiet(d))).collect();
        let day = |raw: &str| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
        let mut cost: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
        for aggregate in &found.costs {
            if let Some(date) = day(&aggregate.day) {
                let entry = cost.entry(date).or_default();
                entry.0 += aggregate.cost_micros;
                entry.1 += aggregate.billable_micros;
            }
        }
        for (date, (micros, billable)) in cost {
            if let Some(entry) = days.get_mut(&date) {
                entry.llm_cost = micros_to_usd(micros);
                entry.llm_billable_cost = micros_to_usd(billable);
            }
        }
        for runs in &found.runs {
            if let Some(entry) = day(&runs.day).and_then(|date| days.get_mut(&date)) {
                entry.runs = RunsByBucket {
                    free: runs.free,
                    credits: runs.credits,
                    subscription: runs.subscription,
                    overage: runs.overage,
                    unlimited: runs.unlimited,
                };
                entry.total_runs = entry.runs.total();
                entry.run_charges = dollars(runs.charged_cents);
            }
        }
        Self { organization_id: org.to_string(), from, to, days: days.into_values().collect() }
    }
}

// How this concern's errors reach a client (status and code).

impl From<crate::usage::http::DayRangeError> for crate::error::ApiError {
    fn from(err: crate::usage::http::DayRangeError) -> Self {
        use crate::usage::http::DayRangeError;
        let code = match err {
            DayRangeError::InvalidDate { .. } => "invalid_query",
            DayRangeError::OutOfOrder { .. } | DayRangeError::TooLong { .. } => "invalid_range",
        };
        Self::bad_request(code, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::store::CostAggregate;
    use crate::usage::store::RunDay;

    fn date(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_default_range_is_the_last_thirty_days_and_a_range_is_at_most_366_days() {
        let today = date("2026-11-23");
        assert_eq!(day_range(None, None, today), Ok((date("2026-10-25"), today)));
        assert_eq!(day_range(None, Some("2026-01-30"), today), Ok((date("2026-01-01"), date("2026-01-30"))));
        assert_eq!(day_range(Some("2025-11-23"), None, today), Ok((date("2025-11-23"), today)));
        assert_eq!(day_range(Some("2025-11-22"), None, today), Err(DayRangeError::TooLong { days: 367 }));
        assert!(matches!(day_range(Some("2026-11-24"), None, today), Err(DayRangeError::OutOfOrder { .. })));
        assert!(matches!(
            day_range(Some("2026-11-10"), Some("2026-11-01"), today),
            Err(DayRangeError::OutOfOrder { .. })
        ));
        for bad in ["2026-11-01T00:00:00Z", "yesterday", "2026-02-30", ""] {
            assert_eq!(day_range(Some(bad), None, today), Err(DayRangeError::InvalidDate { name: "from" }), "{bad}");
        }
    }

    #[test]
    fn every_day_of_the_range_is_answered_and_aggregates_land_on_their_day() {
        let org = OrganizationId::parse("acme").unwrap();
        let cost = |day: &str, model: &str, micros: i64| CostAggregate {
            day: day.into(),
            provider: "openai".into(),
            model: model.into(),
            cost_micros: micros,
            billable_micros: micros * 12 / 10,
            tokens: 10,
            records: 1,
        };
        let found = DailyAggregates {
            runs: vec![RunDay {
                day: "2026-11-02".into(),
                free: 2,
                credits: 1,
                overage: 1,
                charged_cents: 1_750,
                ..RunDay::default()
            }],
            costs: vec![cost("2026-11-03", "gpt-4o", 100_000), cost("2026-11-03", "o3", 50_000)],
        };
        let answer = DailyUsageResponse::from_aggregates(&org, date("2026-11-01"), date("2026-11-04"), &found);
        assert_eq!(answer.days.len(), 4);
        assert_eq!(answer.days[0], DailyUsage::quiet(date("2026-11-01")));
        assert_eq!((answer.days[1].total_runs, answer.days[1].runs.free), (4, 2));
        assert_eq!(answer.days[1].run_charges, Decimal::new(1750, 2));
        assert_eq!(
            (answer.days[2].llm_cost, answer.days[2].llm_billable_cost),
            (Decimal::new(15, 2), Decimal::new(18, 2))
        );
        assert_eq!(answer.days[3], DailyUsage::quiet(date("2026-11-04")));
        let json = serde_json::to_value(&answer.days[1]).unwrap();
        assert_eq!((&json["date"], &json["run_charges"]), (&serde_json::json!("2026-11-02"), &serde_json::json!(17.5)));
    }
}
