//! Invoice lines from usage records.
//!
//! Runs are grouped by how they were paid (bucket), their kind and their per-run charge, so
//! every run line is exactly `quantity × unit_price` in cents and needs no rounding:
//! free runs and runs included in a plan at $0, credit-paid runs at what the credits paid
//! (shown, and counted as applied credits), overage runs at what they were settled at (the
//! catalog price by kind unless the run reported less). Approved cost above a hold is one
//! line per kind; its unit price is the average, its amount the exact sum.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::money::{Cents, dollars};
use crate::quota::rules::{Bucket, RunKind};
use crate::usage::rules::UsageRecord;

/// How a line is paid for, which decides whether it is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Free monthly quota: shown at $0.
    Free,
    /// Included in the subscription or an unlimited plan: shown at $0.
    Included,
    /// Paid from prepaid credits when the run settled: shown, and counted in credits applied.
    Credits,
    /// Runs beyond every quota, at the settled price.
    Overage,
    /// Approved cost above the amount held for the run.
    Excess,
    /// Storage above the plan's limit for a closed month.
    Storage,
    /// A closed month's LLM cost on the platform's keys, for tiers that pay for tokens.
    LlmTokens,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub description: String,
    pub usage_type: String,
    pub kind: LineKind,
    pub quantity: u64,
    /// Price per unit in dollars (exact for run lines, the rounded average for excess).
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    pub amount_cents: Cents,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub usage_record_ids: Vec<String>,
}

impl LineItem {
    /// Part of the amount due (before credits): not already paid from credits.
    pub fn is_owed(&self) -> bool {
        !matches!(self.kind, LineKind::Free | LineKind::Included | LineKind::Credits)
    }
}

fn kind_name(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Standard => "Standard",
        RunKind::Complex => "Complex",
    }
}

#[derive(Default)]
struct Group {
    quantity: u64,
    amount: Cents,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    ids: Vec<String>,
}

impl Group {
    fn add(&mut self, record: &UsageRecord, quantity: u64, amount: Cents) {
        self.quantity += quantity;
        self.amount += amount;
        let at = record.recorded_at;
        self.start = Some(self.start.map_or(at, |s| s.min(at)));
        self.end = Some(self.end.map_or(at, |e| e.max(at)));
        self.ids.push(record.id.clone());
    }
}

/// The lines billing `records`, in a stable order (kind of line, run kind, unit price).
pub fn build_lines(records: &[UsageRecord]) -> Vec<LineItem> {
    let mut groups: BTreeMap<(LineKind, &'static str, String, Cents), Group> = BTreeMap::new();
    for record in records {
        let quantity = u64::from(record.quantity.max(1));
        let kind = kind_name(record.kind);
        let usage_type = record.usage_type.clone();
        let (line, unit) = match record.bucket {
            Bucket::Free => (LineKind::Free, 0),
            Bucket::Subscription | Bucket::Unlimited => (LineKind::Included, 0),
            Bucket::Credits => (LineKind::Credits, record.charged_cents),
            Bucket::Overage => (LineKind::Overage, record.charged_cents),
        };
        // Group by per-unit charge, so quantity × unit price is the amount exactly.
        let per_unit = if quantity > 0 { unit / i64::try_from(quantity).unwrap_or(1) } else { unit };
        let exact = per_unit * i64::try_from(quantity).unwrap_or(1) == unit;
        let key_unit = if exact { per_unit } else { unit };
        let key_quantity = if exact { quantity } else { 1 };
        groups.entry((line, kind, usage_type.clone(), key_unit)).or_default().add(record, key_quantity, unit);
        if record.excess_cents > 0 {
            groups.entry((LineKind::Excess, kind, usage_type, 0)).or_default().add(record, 1, record.excess_cents);
        }
    }
    groups
        .into_iter()
        .map(|((line, kind, usage_type, unit), g)| {
            let unit_price = match line {
                LineKind::Excess => (dollars(g.amount) / Decimal::from(g.quantity.max(1)))
                    .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
                    .normalize(),
                _ => dollars(unit),
            };
            let description = match line {
                LineKind::Free => format!("{kind} runs — free monthly quota"),
                LineKind::Included => format!("{kind} runs — included in plan"),
                LineKind::Credits => format!("{kind} runs — paid with credits"),
                LineKind::Overage => format!("{kind} runs — overage"),
                LineKind::Excess => format!("{kind} runs — approved cost above the hold"),
                // Month lines (`month_charges`) come from no record; named for completeness.
                LineKind::Storage => "Storage above the plan's limit".to_owned(),
                LineKind::LlmTokens => "LLM usage on platform keys".to_owned(),
            };
            LineItem {
                description,
                usage_type,
                kind: line,
                quantity: g.quantity,
                unit_price,
                amount_cents: g.amount,
                period_start: g.start,
                period_end: g.end,
                usage_record_ids: g.ids,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::OrganizationId;
    use chrono::TimeZone;

    pub(crate) fn record(id: &str, bucket: Bucket, kind: RunKind, charged: Cents, excess: Cents) -> UsageRecord {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        UsageRecord {
            pk: "ORG#o".into(),
            sk: format!("USAGE#{id}"),
            unbilled_pk: Some("UNBILLED#o".into()),
            unbilled_sk: Some("t".into()),
            id: id.into(),
            organization_id: OrganizationId::parse("o").unwrap(),
            billing_account_id: "a".into(),
            run_id: id.into(),
            usage_type: "workflow_run".into(),
            kind,
            bucket,
            quantity: 1,
            charged_cents: charged,
            excess_cents: excess,
            capped_cents: 0,
            cap_reason: None,
            actual_cost_cents: None,
            billed: false,
            invoice_id: None,
            details: None,
            recorded_at: at,
            billed_at: None,
        }
    }

    #[test]
    fn runs_group_by_how_they_were_paid_kind_and_price() {
        let records = vec![
            record("f1", Bucket::Free, RunKind::Standard, 0, 0),
            record("f2", Bucket::Free, RunKind::Standard, 0, 0),
            record("s1", Bucket::Subscription, RunKind::Complex, 0, 0),
            record("c1", Bucket::Credits, RunKind::Standard, 1_000, 0),
            record("o1", Bucket::Overage, RunKind::Standard, 1_000, 0),
            record("o2", Bucket::Overage, RunKind::Standard, 1_000, 250),
            record("o3", Bucket::Overage, RunKind::Standard, 700, 0),
            record("o4", Bucket::Overage, RunKind::Complex, 1_500, 0),
        ];
        let lines = build_lines(&records);
        let summary: Vec<_> =
            lines.iter().map(|l| (l.kind, l.description.as_str(), l.quantity, l.unit_price, l.amount_cents)).collect();
        use rust_decimal_macros::dec;
        assert_eq!(
            summary,
            vec![
                (LineKind::Free, "Standard runs — free monthly quota", 2, dec!(0), 0),
                (LineKind::Included, "Complex runs — included in plan", 1, dec!(0), 0),
                (LineKind::Credits, "Standard runs — paid with credits", 1, dec!(10), 1_000),
                (LineKind::Overage, "Complex runs — overage", 1, dec!(15), 1_500),
                (LineKind::Overage, "Standard runs — overage", 1, dec!(7), 700),
                (LineKind::Overage, "Standard runs — overage", 2, dec!(10), 2_000),
                (LineKind::Excess, "Standard runs — approved cost above the hold", 1, dec!(2.5), 250),
            ]
        );
        // Every record is on a run line exactly once; excess lines trace theirs too.
        let mut ids: Vec<_> =
            lines.iter().filter(|l| l.kind != LineKind::Excess).flat_map(|l| l.usage_record_ids.clone()).collect();
        ids.sort();
        assert_eq!(ids, vec!["c1", "f1", "f2", "o1", "o2", "o3", "o4", "s1"]);
        for line in lines.iter().filter(|l| l.kind != LineKind::Excess) {
            assert_eq!(dollars(line.amount_cents), line.unit_price * Decimal::from(line.quantity), "{line:?}");
        }
    }

    #[test]
    fn excess_unit_price_is_the_rounded_average_but_the_amount_is_exact() {
        let records = vec![
            record("a", Bucket::Overage, RunKind::Standard, 1_000, 1),
            record("b", Bucket::Overage, RunKind::Standard, 1_000, 1),
            record("c", Bucket::Overage, RunKind::Standard, 1_000, 2),
        ];
        let excess = build_lines(&records).into_iter().find(|l| l.kind == LineKind::Excess).unwrap();
        assert_eq!((excess.quantity, excess.amount_cents), (3, 4));
        assert_eq!(excess.unit_price, rust_decimal_macros::dec!(0.0133));
    }
}
