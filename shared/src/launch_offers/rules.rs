//! Launch-price phases: a subscription bought inside a tier's launch window pays each intro
//! phase's price for its months, then the tier's own price. The phases are dated from the
//! subscription's first period, so they fall on its renewals.

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::rules::LaunchOffer;
use crate::money::{Cents, MoneyError, exact_cents};

/// One dated phase of a subscription's price; the last (the tier's price) has no end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricePhase {
    pub price_cents: Cents,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// `true` for the offer's phases, `false` for the tier's own price after them.
    pub intro: bool,
}

/// The phases of a subscription whose first period starts at `start`: the offer's phases in
/// order, then `full_price_cents` for good.
pub fn phases(
    offer: &LaunchOffer,
    full_price_cents: Cents,
    start: DateTime<Utc>,
) -> Result<Vec<PricePhase>, MoneyError> {
    let mut dated = Vec::with_capacity(offer.phases.len() + 1);
    let (mut from, mut months) = (start, 0);
    for phase in &offer.phases {
        // Counted from the first period's start, as Stripe's billing anchor is: Jan 31 + 3
        // months is Apr 30, not the Apr 28 that adding to Feb 28 would give.
        months += phase.months;
        let until = start.checked_add_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MAX_UTC);
        dated.push(PricePhase {
            price_cents: exact_cents(phase.price_usd)?,
            starts_at: from,
            ends_at: Some(until),
            intro: true,
        });
        from = until;
    }
    dated.push(PricePhase { price_cents: full_price_cents, starts_at: from, ends_at: None, intro: false });
    Ok(dated)
}

/// The phase in force at `now` and the one after it.
pub fn current_and_next(phases: &[PricePhase], now: DateTime<Utc>) -> (Option<&PricePhase>, Option<&PricePhase>) {
    let current = phases.iter().position(|p| p.starts_at <= now && p.ends_at.is_none_or(|end| now < end));
    match current {
        Some(i) => (phases.get(i), phases.get(i + 1)),
        // Before the first phase (a period reported as starting later): the first is next.
        None => (None, phases.first().filter(|p| now < p.starts_at)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::catalog::rules::IntroPhase;

    fn offer() -> LaunchOffer {
        LaunchOffer {
            id: "new-year".into(),
            name: "New Year deal".into(),
            starts_at: Utc.with_ymd_and_hms(2026, 12, 15, 0, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap(),
            phases: vec![
                IntroPhase { price_usd: dec!(0.59), months: 1 },
                IntroPhase { price_usd: dec!(12.99), months: 2 },
            ],
        }
    }

    #[test]
    fn the_new_year_deal_is_59_cents_then_12_99_twice_then_the_tier_price() {
        let start = Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap();
        let dated = phases(&offer(), 7_900, start).unwrap();
        let summary: Vec<_> = dated.iter().map(|p| (p.price_cents, p.starts_at, p.ends_at)).collect();
        let at = |m: u32, d: u32| Utc.with_ymd_and_hms(2027, m, d, 10, 0, 0).unwrap();
        // Month ends follow the billing anchor: Jan 31 → Feb 28 → Apr 30.
        assert_eq!(
            summary,
            vec![(59, start, Some(at(2, 28))), (1_299, at(2, 28), Some(at(4, 30))), (7_900, at(4, 30), None),]
        );
        let (current, next) = current_and_next(&dated, at(3, 15));
        assert_eq!((current.map(|p| p.price_cents), next.map(|p| p.price_cents)), (Some(1_299), Some(7_900)));
        let (current, next) = current_and_next(&dated, at(6, 1));
        assert_eq!((current.map(|p| p.intro), next), (Some(false), None));
    }
}
