//! What voiding an issued invoice undoes. Usage lines can be billed again: their usage
//! records go back to unbilled and the next invoice takes them. A closed month's storage and
//! LLM lines cannot (the month is marked billed), and an operator may choose not to bill the
//! usage again either; whatever is not billed again is written off in a credit note, so the
//! books say why the money was never collected. Balance credits applied to the invoice go
//! back to the account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lines::LineKind;
use super::{Invoice, LineItem};
use crate::ids::OrganizationId;
use crate::money::Cents;

/// How a void treats the invoice's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebill {
    /// The usage goes back to unbilled; the next invoice bills it.
    Usage,
    /// Nothing is billed again: every owed line is written off.
    Nothing,
}

/// `ORG#<org>` / `CREDITNOTE#<invoice id>`: what a void wrote off, and why; one per invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNote {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub invoice_id: String,
    pub organization_id: OrganizationId,
    pub amount_cents: Cents,
    pub lines: Vec<LineItem>,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What a void does, decided from the invoice alone.
#[derive(Debug, Clone, PartialEq)]
pub struct VoidPlan {
    /// Whether the usage records go back to unbilled.
    pub returns_usage: bool,
    /// The owed lines written off (none: no credit note).
    pub written_off: Vec<LineItem>,
    pub written_off_cents: Cents,
    /// Balance credits applied to the invoice, returned to the account.
    pub refund_cents: Cents,
}

fn from_usage(line: &LineItem) -> bool {
    !matches!(line.kind, LineKind::Storage | LineKind::LlmTokens)
}

pub fn plan(invoice: &Invoice, rebill: Rebill) -> VoidPlan {
    let returns_usage = rebill == Rebill::Usage;
    let month_lines = invoice.month_charges.iter().flat_map(|m| m.lines.iter());
    let written_off: Vec<LineItem> = invoice
        .line_items
        .iter()
        .chain(month_lines)
        .filter(|line| line.is_owed() && line.amount_cents != 0 && !(returns_usage && from_usage(line)))
        .cloned()
        .collect();
    let written_off_cents = written_off.iter().map(|l| l.amount_cents).sum();
    VoidPlan { returns_usage, written_off, written_off_cents, refund_cents: invoice.balance_applied_cents.unwrap_or(0) }
}

impl CreditNote {
    pub fn new(invoice: &Invoice, plan: &VoidPlan, reason: &str, by: &str, at: DateTime<Utc>) -> Option<Self> {
        (!plan.written_off.is_empty()).then(|| Self {
            pk: invoice.pk.clone(),
            sk: format!("CREDITNOTE#{}", invoice.id),
            invoice_id: invoice.id.clone(),
            organization_id: invoice.organization_id.clone(),
            amount_cents: plan.written_off_cents,
            lines: plan.written_off.clone(),
            reason: reason.to_owned(),
            created_by: by.to_owned(),
            created_at: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoicing::rules::MonthCharges;
    use rust_decimal::Decimal;

    fn line(kind: LineKind, cents: Cents) -> LineItem {
        LineItem {
            description: format!("{kind:?}"),
            usage_type: "workflow".into(),
            kind,
            quantity: 1,
            unit_price: Decimal::new(cents, 2),
            amount_cents: cents,
            period_start: None,
            period_end: None,
            usage_record_ids: Vec::new(),
        }
    }

    fn invoice() -> Invoice {
        let org = OrganizationId::parse("acme").unwrap();
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 0, 0, 0).unwrap();
        let mut invoice = Invoice::draft(&org, "acct", "inv_1".into(), at);
        invoice.line_items = vec![
            line(LineKind::Free, 0),
            line(LineKind::Credits, 300),
            line(LineKind::Overage, 450),
            line(LineKind::Excess, 25),
        ];
        invoice.month_charges = Some(MonthCharges { months: Vec::new(), lines: vec![line(LineKind::Storage, 100)] });
        invoice.balance_applied_cents = Some(200);
        invoice
    }

    #[test]
    fn rebilling_usage_writes_off_only_the_months_own_lines() {
        let plan = plan(&invoice(), Rebill::Usage);
        assert!(plan.returns_usage);
        assert_eq!(plan.written_off.iter().map(|l| l.kind).collect::<Vec<_>>(), [LineKind::Storage]);
        assert_eq!((plan.written_off_cents, plan.refund_cents), (100, 200));
    }

    #[test]
    fn billing_nothing_again_writes_off_every_owed_line_but_not_what_credits_paid() {
        let plan = plan(&invoice(), Rebill::Nothing);
        assert!(!plan.returns_usage);
        let kinds: Vec<_> = plan.written_off.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [LineKind::Overage, LineKind::Excess, LineKind::Storage]);
        assert_eq!(plan.written_off_cents, 575);
    }

    #[test]
    fn nothing_written_off_means_no_credit_note() {
        let mut only_usage = invoice();
        only_usage.month_charges = None;
        let plan = plan(&only_usage, Rebill::Usage);
        let at = only_usage.created_at;
        assert_eq!(CreditNote::new(&only_usage, &plan, "r", "ops", at), None);
    }
}
