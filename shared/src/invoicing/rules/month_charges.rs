//! Charges that come from a closed month rather than from usage records: storage above the
//! plan's limit, and the month's LLM cost for tiers that pay for tokens. What each tier pays
//! for is catalog data (`storage_gb`, `storage_usd_per_gb_month`, `pays_for_llm_tokens`).
//!
//! The close of a month bills its storage once and its LLM cost so far. LLM costs can arrive
//! after their month closed (a redriven dead-letter queue): each close also bills what the
//! previous month gained since it was billed, so no cost is left out. What was billed per
//! month is remembered ([`MonthBilled`]), and each invoice bills only the difference.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lines::{LineItem, LineKind};
use crate::catalog::rules::{Catalog, Tier};
use crate::costs::rules::{Micros, micros_to_usd};
use crate::money::{Cents, MoneyError, dollars, exact_cents, rounded_cents};

/// The month-level lines of one close, and what each month has been billed once they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthCharges {
    pub months: Vec<MonthBilled>,
    pub lines: Vec<LineItem>,
}

/// What has been billed for one month: before this invoice (`None`: never) and with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthBilled {
    /// `YYYY-MM`.
    pub month: String,
    pub llm_billed_before: Option<Micros>,
    pub llm_billed_after: Micros,
}

/// What a close knows about one month.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthFacts {
    pub month: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The latest storage snapshot at the close; `None` when none was ever sent, or when the
    /// month's storage was billed already.
    pub storage_used_gb: Option<Decimal>,
    /// The storage limit in force (the tier's, or an operator's override); `None` = unlimited.
    pub storage_limit_gb: Option<u32>,
    /// The month's LLM cost on the platform's keys, margin included, as recorded so far.
    pub llm_billable: Micros,
    /// What earlier invoices billed of it (`None`: nothing was billed for the month yet).
    pub llm_billed: Option<Micros>,
    /// The month closed before: only costs recorded since then are billed.
    pub late: bool,
}

/// The lines for the months of one close (the closed month, and the one before for late
/// costs); `None` when there is nothing to bill.
pub fn month_charges(
    tier: &Tier,
    catalog: &Catalog,
    months: &[MonthFacts],
) -> Result<Option<MonthCharges>, MoneyError> {
    let mut charges = MonthCharges { months: Vec::new(), lines: Vec::new() };
    for facts in months {
        let storage = storage_line(catalog.storage_usd_per_gb_month, facts)?;
        let llm = if tier.pays_for_llm_tokens { llm_line(facts)? } else { None };
        if storage.is_none() && llm.is_none() {
            continue;
        }
        let billed_before = facts.llm_billed;
        let llm_billed_after = match &llm {
            Some(_) => facts.llm_billable,
            None => billed_before.unwrap_or(0),
        };
        charges.lines.extend(storage.into_iter().chain(llm));
        charges.months.push(MonthBilled {
            month: facts.month.clone(),
            llm_billed_before: billed_before,
            llm_billed_after,
        });
    }
    Ok((!charges.lines.is_empty()).then_some(charges))
}

/// Every started GB above the limit, at the catalog's rate: `quantity × unit_price` exactly.
fn storage_line(rate: Decimal, facts: &MonthFacts) -> Result<Option<LineItem>, MoneyError> {
    let (Some(used), Some(limit)) = (facts.storage_used_gb, facts.storage_limit_gb) else { return Ok(None) };
    let above = used - Decimal::from(limit);
    if above <= Decimal::ZERO || rate.is_zero() {
        return Ok(None);
    }
    let gb = above.ceil();
    let quantity = u64::try_from(gb).map_err(|_| MoneyError::Overflow(gb))?;
    let unit_cents = rounded_cents(rate)?;
    let amount_cents: Cents = exact_cents(dollars(unit_cents) * gb)?;
    Ok(Some(LineItem {
        description: format!("Storage above the plan's {limit} GB — {quantity} GB-month ({})", facts.month),
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

/// The month's LLM cost with the margin not billed yet, rounded once to the cent.
fn llm_line(facts: &MonthFacts) -> Result<Option<LineItem>, MoneyError> {
    let unbilled = facts.llm_billable - facts.llm_billed.unwrap_or(0);
    let cents = rounded_cents(micros_to_usd(unbilled))?;
    if cents <= 0 {
        return Ok(None);
    }
    let description = if facts.late {
        format!("LLM usage on platform keys recorded after {} closed (provider cost plus margin)", facts.month)
    } else {
        format!("LLM usage on platform keys, {} (provider cost plus margin)", facts.month)
    };
    Ok(Some(LineItem {
        description,
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

    fn facts(storage: Option<Decimal>, llm: Micros, billed: Option<Micros>) -> MonthFacts {
        MonthFacts {
            storage_limit_gb: None,
            month: "2026-11".into(),
            start: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            storage_used_gb: storage,
            llm_billable: llm,
            llm_billed: billed,
            late: billed.is_some(),
        }
    }

    fn tier(id: &str) -> Tier {
        Catalog::builtin().tier(id).unwrap().clone()
    }

    fn lines(tier_id: &str, mut facts: MonthFacts) -> Vec<LineItem> {
        facts.storage_limit_gb = tier(tier_id).storage_gb.finite();
        month_charges(&tier(tier_id), &Catalog::builtin(), &[facts]).unwrap().map(|c| c.lines).unwrap_or_default()
    }

    #[test]
    fn storage_is_billed_per_started_gb_above_the_limit_only() {
        // Pro allows 50 GB.
        for (used, expected) in [
            (None, None),
            (Some(dec!(12)), None),
            (Some(dec!(50)), None),
            (Some(dec!(50.01)), Some((1, 10))),
            (Some(dec!(62.5)), Some((13, 130))),
        ] {
            let lines = lines("pro", facts(used, 0, None));
            assert_eq!(lines.first().map(|l| (l.quantity, l.amount_cents)), expected, "{used:?}");
            if let Some(line) = lines.first() {
                assert_eq!(line.kind, LineKind::Storage);
                assert_eq!(Decimal::from(line.quantity) * line.unit_price, dollars(line.amount_cents));
                assert!(line.is_owed());
            }
        }
        // Unlimited storage has nothing above it.
        assert!(lines("enterprise", facts(Some(dec!(5000)), 0, None)).is_empty());
    }

    #[test]
    fn llm_cost_is_billed_only_to_tiers_whose_catalog_entry_says_so() {
        // $12.3456789 with margin → $12.35, rounded once.
        let enterprise = lines("enterprise", facts(None, 12_345_679, None));
        assert_eq!(
            enterprise.iter().map(|l| (l.kind, l.amount_cents)).collect::<Vec<_>>(),
            [(LineKind::LlmTokens, 1_235)]
        );
        for plan in ["free", "pro", "byo", "lifetime"] {
            assert!(!tier(plan).pays_for_llm_tokens);
            assert!(lines(plan, facts(None, 12_345_679, None)).is_empty(), "{plan}");
        }
        // Less than half a cent is nothing.
        assert!(lines("enterprise", facts(None, 4_999, None)).is_empty());
    }

    #[test]
    fn a_late_cost_bills_only_what_the_month_gained_since_it_was_billed() {
        let catalog = Catalog::builtin();
        let late = facts(None, 15_000_000, Some(12_000_000));
        let charges = month_charges(&tier("enterprise"), &catalog, &[late]).unwrap().unwrap();
        assert_eq!(charges.lines.iter().map(|l| l.amount_cents).collect::<Vec<_>>(), [300]);
        assert!(charges.lines[0].description.contains("after 2026-11 closed"), "{}", charges.lines[0].description);
        assert_eq!(
            charges.months,
            [MonthBilled {
                month: "2026-11".into(),
                llm_billed_before: Some(12_000_000),
                llm_billed_after: 15_000_000
            }]
        );
        // Nothing gained: nothing billed, nothing to remember.
        assert!(
            month_charges(&tier("enterprise"), &catalog, &[facts(None, 12_000_000, Some(12_000_000))])
                .unwrap()
                .is_none()
        );
    }
}
