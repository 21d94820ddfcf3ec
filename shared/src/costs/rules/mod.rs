//! LLM call costs: the model price table (data, like the plan catalog), pricing in
//! micro-dollars, the pass-through margin, and the stored cost record.
//!
//! Costs are kept in micro-dollars (millionths of a dollar) because one call often costs a
//! fraction of a cent; they are rounded to cents only where money is actually charged.

pub mod budget;

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;

/// Millionths of a US dollar.
pub type Micros = i64;

const BUILTIN_PRICES: &str = include_str!("../../../catalog/model_prices.json");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub provider: String,
    pub model: String,
    /// Dollars per million prompt tokens, i.e. micro-dollars per token.
    pub prompt_per_million_usd: Decimal,
    pub completion_per_million_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrices {
    pub models: Vec<ModelPrice>,
}

#[derive(Debug, thiserror::Error)]
pub enum PriceTableError {
    #[error("model price table is not valid JSON for the expected shape: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("model price table: {provider}/{model} has a negative price")]
    Negative { provider: String, model: String },
}

impl ModelPrices {
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_PRICES).expect("the built-in model price table is valid (tested)")
    }

    pub fn from_json(json: &str) -> Result<Self, PriceTableError> {
        let table: ModelPrices = serde_json::from_str(json)?;
        if let Some(bad) = table
            .models
            .iter()
            .find(|m| m.prompt_per_million_usd.is_sign_negative() || m.completion_per_million_usd.is_sign_negative())
        {
            return Err(PriceTableError::Negative { provider: bad.provider.clone(), model: bad.model.clone() });
        }
        Ok(table)
    }

    pub fn find(&self, provider: &str, model: &str) -> Option<&ModelPrice> {
        self.models.iter().find(|m| m.provider.eq_ignore_ascii_case(provider) && m.model.eq_ignore_ascii_case(model))
    }

    /// Prompt and completion cost of a call, or `None` for a model not in the table.
    pub fn price(
        &self,
        provider: &str,
        model: &str,
        prompt_tokens: u64,
        completion_tokens: u64,
    ) -> Option<(Micros, Micros)> {
        let price = self.find(provider, model)?;
        Some((
            micros(price.prompt_per_million_usd * Decimal::from(prompt_tokens)),
            micros(price.completion_per_million_usd * Decimal::from(completion_tokens)),
        ))
    }
}

/// Rounds a micro-dollar amount held as a decimal to a whole micro-dollar.
fn micros(value: Decimal) -> Micros {
    i64::try_from(value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)).unwrap_or(i64::MAX)
}

pub fn usd_to_micros(usd: Decimal) -> Micros {
    micros(usd * Decimal::from(1_000_000))
}

pub fn micros_to_usd(value: Micros) -> Decimal {
    Decimal::new(value, 6).normalize()
}

/// Who paid the LLM provider for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    /// Our keys: the cost is passed through to the customer with the margin.
    Platform,
    /// The customer's own keys (BYO): recorded for analytics, never charged.
    CustomerKey,
}

/// What the customer is charged for a call that cost `cost`.
pub fn billable(cost: Micros, payer: Payer, margin_percent: u32) -> Micros {
    match payer {
        Payer::CustomerKey => 0,
        Payer::Platform => {
            micros(Decimal::from(cost) * (Decimal::ONE_HUNDRED + Decimal::from(margin_percent)) / Decimal::ONE_HUNDRED)
        }
    }
}

/// `ORG#<org>` / `COST#<recorded_at>#<event_id>`: one LLM call. Keyed by the message's event
/// id, so a redelivered message cannot record it twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    pub organization_id: OrganizationId,
    pub billing_account_id: Option<String>,
    pub run_id: Option<String>,
    pub agent_id: Option<String>,
    pub sandbox_id: Option<String>,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub prompt_cost_micros: Micros,
    pub completion_cost_micros: Micros,
    /// Charged to the customer: cost plus margin, or 0 for their own keys.
    pub billable_micros: Micros,
    pub payer: Payer,
    /// `reported` when the caller sent costs, `price_table` when we priced the tokens.
    pub priced_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl CostRecord {
    pub fn sort_key(recorded_at: DateTime<Utc>, event_id: &str) -> String {
        format!("COST#{}#{event_id}", recorded_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }

    pub fn total_cost_micros(&self) -> Micros {
        self.prompt_cost_micros + self.completion_cost_micros
    }

    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn tokens_are_priced_from_the_table_in_micro_dollars() {
        let prices = ModelPrices::builtin();
        // 1,000 prompt tokens at $3/M = $0.003; 500 completion tokens at $15/M = $0.0075.
        assert_eq!(prices.price("anthropic", "claude-sonnet-4", 1_000, 500), Some((3_000, 7_500)));
        assert_eq!(prices.price("Anthropic", "CLAUDE-SONNET-4", 1, 0), Some((3, 0)));
        assert_eq!(prices.price("acme", "unknown", 1, 1), None);
    }

    #[test]
    fn the_margin_applies_to_platform_calls_only() {
        assert_eq!(billable(10_000, Payer::Platform, 20), 12_000);
        assert_eq!(billable(5, Payer::Platform, 20), 6);
        assert_eq!(billable(10_000, Payer::CustomerKey, 20), 0);
    }

    #[test]
    fn conversions_keep_sub_cent_precision() {
        assert_eq!(usd_to_micros(dec!(0.0075)), 7_500);
        assert_eq!(micros_to_usd(7_500), dec!(0.0075));
        assert!(ModelPrices::from_json(r#"{"models":[{"provider":"a","model":"b","prompt_per_million_usd":-1,"completion_per_million_usd":1}]}"#).is_err());
    }
}
