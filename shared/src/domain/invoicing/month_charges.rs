//! Charges that come from a closed month rather than from usage records: storage above the
//! plan's limit, and the month's LLM cost for tiers that pay for tokens. What each tier pays
//! for is catalog data (`storage_gb`, `storage_usd_per_gb_month`, `pays_for_llm_tokens`).
//!
//! Each is one line per month, billed once, by the close of that month.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lines::{LineItem, LineKind};
use crate::domain::costs::{Micros, micros_to_usd};
use crate::domain::money::{Cents, MoneyError, dollars, exact_cents, rounded_cents};
use crate::domain::plans::{Catalog, Tier};

/// The month-level lines of one organization's close, and what they were computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthCharges {
    /// `YYYY-MM`.
    pub month: String,
    pub lines: Vec<LineItem>,
}

/// What the close knows about the month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthFacts {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The latest storage snapshot at the close, if any was ever sent.
    pub storage_used_gb: Option<Decimal>,
    /// The month's LLM cost on the platform's keys, margin included.
    pub llm_billable: Micros,
}

pub fn month_charges(
    month: &str,
    tier: &Tier,
    catalog: &Catalog,
    facts: MonthFacts,
) -> Result<MonthCharges, MoneyError> {
    let mut lines = Vec::new();
    if let Some(line) = storage_line(tier, catalog.storage_usd_per_gb_month, &facts)? {
        lines.push(line);
    }
    if tier.pays_for_llm_tokens
        && let Some(line) = llm_line(&facts)?
    {
        lines.push(line);
    }
    Ok(MonthCharges { month: month.to_owned(), lines })
}

/// Every started GB above the limit, at the catalog's rate: `quantity × unit_price` exactly.
fn storage_line(tier: &Tier, rate: Decimal, facts: &MonthFacts) -> Result<Option<LineItem>, MoneyError> {
    let (Some(used), Some(limit)) = (facts.storage_used_gb, tier.storage_gb.finite()) else { return Ok(None) };
    let above = used - Decimal::from(limit);
    if above <= Decimal::ZERO || rate.is_zero() {
        return Ok(None);
    }
    let gb = above.ceil();
    let quantity = u64::try_from(gb).map_err(|_| MoneyError::Overflow(gb))?;
    let unit_cents = rounded_cents(rate)?;
    let amount_cents: Cents = exact_cents(dollars(unit_cents) * gb)?;
    Ok(Some(LineItem {
        description: format!("Storage above the plan's {limit} GB — {quantity} GB-month"),
        usage_type: "storage".into(),
        kind: LineKind::Storage,
        quantity,
        unit_price: dollars(unit_cents),
        amount_cents,
        period_start: Some(facts.start),
        period_end: Some(facts.end),
        usage_record_ids: Vec::new(),
    }))
}

/// The month's LLM cost with the margin, rounded once to the cent.
fn llm_line(facts: &MonthFacts) -> Result<Option<LineItem>, MoneyError> {
    let cents = rounded_cents(micros_to_usd(facts.llm_billable))?;
    if cents <= 0 {
        return Ok(None);
    }
    Ok(Some(LineItem {
        description: "LLM usage on platform keys (provider cost plus margin)".into(),
        usage_type: "llm_tokens".into(),
        kind: LineKind::LlmTokens,
        quantity: 1,
        unit_price: dollars(cents),
        amount_cents: cents,
        period_start: Some(facts.start),
        period_end: Some(facts.end),
        usage_record_ids: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn facts(storage: Option<Decimal>, llm: Micros) -> MonthFacts {
        MonthFacts {
            start: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            storage_used_gb: storage,
            llm_billable: llm,
        }
    }

    fn tier(id: &str) -> Tier {
        Catalog::builtin().tier(id).unwrap().clone()
    }

    #[test]
    fn storage_is_billed_per_started_gb_above_the_limit_only() {
        let catalog = Catalog::builtin();
        let pro = tier("pro"); // 50 GB
        for (used, expected) in [
            (None, None),
            (Some(dec!(12)), None),
            (Some(dec!(50)), None),
            (Some(dec!(50.01)), Some((1, 10))),
            (Some(dec!(62.5)), Some((13, 130))),
        ] {
            let charges = month_charges("2026-11", &pro, &catalog, facts(used, 0)).unwrap();
            let got = charges.lines.first().map(|l| (l.quantity, l.amount_cents));
            assert_eq!(got, expected, "{used:?}");
            if let Some(line) = charges.lines.first() {
                assert_eq!(line.kind, LineKind::Storage);
                assert_eq!(Decimal::from(line.quantity) * line.unit_price, dollars(line.amount_cents));
                assert!(line.is_owed());
            }
        }
        // Unlimited storage has nothing above it.
        let enterprise = tier("enterprise");
        let charges = month_charges("2026-11", &enterprise, &catalog, facts(Some(dec!(5000)), 0)).unwrap();
        assert!(charges.lines.iter().all(|l| l.kind != LineKind::Storage));
    }

    #[test]
    fn llm_cost_is_billed_only_to_tiers_whose_catalog_entry_says_so() {
        let catalog = Catalog::builtin();
        // $12.3456789 with margin → $12.35, rounded once.
        let enterprise = month_charges("2026-11", &tier("enterprise"), &catalog, facts(None, 12_345_679)).unwrap();
        assert_eq!(enterprise.lines.len(), 1);
        assert_eq!((enterprise.lines[0].kind, enterprise.lines[0].amount_cents), (LineKind::LlmTokens, 1_235));
        for plan in ["free", "pro", "byo", "lifetime"] {
            assert!(!tier(plan).pays_for_llm_tokens);
            let charges = month_charges("2026-11", &tier(plan), &catalog, facts(None, 12_345_679)).unwrap();
            assert!(charges.lines.is_empty(), "{plan}");
        }
        // Less than half a cent is nothing.
        assert!(month_charges("2026-11", &tier("enterprise"), &catalog, facts(None, 4_999)).unwrap().lines.is_empty());
    }
}
