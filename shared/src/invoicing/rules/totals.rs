//! Invoice totals, in cents: `total = subtotal − discount + tax`,
//! `amount_due = total − credits_applied − amount_paid`, nothing ever negative.
//!
//! Lines are whole cents already (rounded per line when they are made), so totals are exact
//! sums. Credits applied are the credit-paid usage on the lines plus the balance applied to
//! the rest, never more than the total.

use super::lines::{LineItem, LineKind};
use crate::money::Cents;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub subtotal: Cents,
    pub discount: Cents,
    pub tax: Cents,
    pub total: Cents,
    pub credits_applied: Cents,
    pub amount_paid: Cents,
    pub amount_due: Cents,
}

impl Totals {
    pub fn compute(
        lines: &[LineItem],
        discount: Cents,
        tax: Cents,
        balance_applied: Cents,
        amount_paid: Cents,
    ) -> Self {
        let subtotal: Cents = lines.iter().map(|l| l.amount_cents.max(0)).sum();
        let paid_by_credits: Cents =
            lines.iter().filter(|l| l.kind == LineKind::Credits).map(|l| l.amount_cents.max(0)).sum();
        let (discount, tax, amount_paid) = (discount.max(0), tax.max(0), amount_paid.max(0));
        let total = (subtotal - discount + tax).max(0);
        let credits_applied = (paid_by_credits + balance_applied.max(0)).min(total);
        let amount_due = (total - credits_applied - amount_paid).max(0);
        Self { subtotal, discount, tax, total, credits_applied, amount_paid, amount_due }
    }

    /// What is owed before any balance is applied: the most a balance may cover.
    pub fn owed_before_balance(lines: &[LineItem], discount: Cents, tax: Cents, amount_paid: Cents) -> Cents {
        Self::compute(lines, discount, tax, 0, amount_paid).amount_due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoicing::rules::lines::build_lines;
    use crate::invoicing::rules::lines::tests::record;
    use crate::quota::rules::{Bucket, RunKind};

    fn lines() -> Vec<LineItem> {
        build_lines(&[
            record("f", Bucket::Free, RunKind::Standard, 0, 0),
            record("c", Bucket::Credits, RunKind::Standard, 1_000, 300),
            record("o", Bucket::Overage, RunKind::Complex, 1_500, 0),
        ])
    }

    #[test]
    fn credit_paid_usage_is_shown_and_applied_and_the_rest_is_due() {
        let t = Totals::compute(&lines(), 0, 0, 0, 0);
        assert_eq!((t.subtotal, t.total, t.credits_applied, t.amount_due), (2_800, 2_800, 1_000, 1_800));
        let with_balance = Totals::compute(&lines(), 0, 0, 500, 0);
        assert_eq!((with_balance.credits_applied, with_balance.amount_due), (1_500, 1_300));
        assert_eq!(Totals::owed_before_balance(&lines(), 0, 0, 0), 1_800);
    }

    #[test]
    fn nothing_is_ever_negative() {
        let t = Totals::compute(&lines(), 10_000, 0, 10_000, 10_000);
        assert_eq!((t.total, t.credits_applied, t.amount_due), (0, 0, 0));
        let overpaid = Totals::compute(&lines(), 0, 0, 0, 5_000);
        assert_eq!(overpaid.amount_due, 0);
    }

    #[test]
    fn the_identities_hold_for_random_invoices() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..2_000 {
            let records: Vec<_> = (0..rng.usize(0..20))
                .map(|i| {
                    let bucket =
                        [Bucket::Free, Bucket::Credits, Bucket::Subscription, Bucket::Overage][rng.usize(0..4)];
                    let charged =
                        if matches!(bucket, Bucket::Credits | Bucket::Overage) { rng.i64(0..3_000) } else { 0 };
                    record(&format!("r{i}"), bucket, RunKind::Standard, charged, rng.i64(0..200))
                })
                .collect();
            let lines = build_lines(&records);
            let (discount, tax, balance, paid) = (rng.i64(0..500), rng.i64(0..500), rng.i64(0..5_000), rng.i64(0..500));
            let t = Totals::compute(&lines, discount, tax, balance, paid);
            let billable: Cents = records.iter().map(|r| r.charged_cents + r.excess_cents).sum();
            assert_eq!(t.subtotal, billable, "lines add up to the usage to the cent");
            assert_eq!(t.total, (t.subtotal - discount + tax).max(0));
            assert!(t.credits_applied <= t.total && t.amount_due >= 0);
            if t.total - t.credits_applied - t.amount_paid >= 0 {
                assert_eq!(t.amount_due, t.total - t.credits_applied - t.amount_paid);
            }
        }
    }
}
