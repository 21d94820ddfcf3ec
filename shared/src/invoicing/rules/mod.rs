//! Invoices as stored, and the pure rules that make them: which line a usage record lands
//! on ([`lines`]), how the totals follow from the lines ([`totals`]) and how an unpaid invoice
//! is chased ([`dunning`]). No I/O.
//!
//! Statuses move `draft → open → paid | past_due | void`; a draft has no number, numbers are
//! given at finalization. All amounts are integer cents.

pub mod lines;
pub mod month_charges;
pub mod totals;
pub mod void;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;
use crate::money::Cents;

pub use crate::invoicing::rules::lines::{LineItem, build_lines};
pub use crate::invoicing::rules::month_charges::{MonthBilled, MonthCharges, MonthFacts, month_charges};
pub use crate::invoicing::rules::totals::Totals;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Open,
    Paid,
    PastDue,
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::PastDue => "past_due",
            Self::Void => "void",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Draft, Self::Open, Self::Paid, Self::PastDue, Self::Void].into_iter().find(|s| s.as_str() == raw)
    }

    /// Only an issued, unpaid invoice can be paid.
    pub fn is_payable(self) -> bool {
        matches!(self, Self::Open | Self::PastDue)
    }
}

/// Where an invoice came from: our usage invoicing, or a Stripe subscription invoice that
/// Stripe issued itself and we only record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceSource {
    Usage,
    StripeSubscription,
}

/// Days between finalization and the due date unless configured otherwise.
pub const DEFAULT_PAYMENT_TERMS_DAYS: i64 = 7;

/// Usage records one invoice takes at most; the rest go on the next one. Keeps the invoice
/// item (which lists every record id it bills) well under DynamoDB's 400 KB item limit.
pub const MAX_RECORDS_PER_INVOICE: usize = 5_000;

pub fn new_invoice_id() -> String {
    format!("inv_{}", uuid::Uuid::now_v7().simple())
}

/// The invoice number for the `sequence`-th invoice of an organization.
pub fn invoice_number(sequence: u64) -> String {
    format!("INV-{sequence:06}")
}

pub fn due_date(finalized_at: DateTime<Utc>, terms_days: i64) -> DateTime<Utc> {
    finalized_at + Duration::days(terms_days)
}

/// `ORG#<org>` / `INVOICE#<created_at>#<id>`: time-ordered in the organization's partition.
/// A small lookup item (`INVOICE#<id>` / `LOOKUP`, see `store::invoicing`) finds it by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    pub organization_id: OrganizationId,
    pub billing_account_id: String,
    pub source: InvoiceSource,
    pub status: InvoiceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Usage recorded up to this instant belongs to this invoice; later usage to the next.
    pub cutoff: DateTime<Utc>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// A closed month's storage and LLM lines, fixed when the draft starts and added to the
    /// usage lines when it is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month_charges: Option<MonthCharges>,
    /// Lines and totals are computed (the draft's usage is claimed and priced).
    #[serde(default)]
    pub priced: bool,
    #[serde(default)]
    pub subtotal_cents: Cents,
    #[serde(default)]
    pub discount_cents: Cents,
    #[serde(default)]
    pub tax_cents: Cents,
    #[serde(default)]
    pub total_cents: Cents,
    /// Credit-paid usage on the lines plus the balance applied at generation.
    #[serde(default)]
    pub credits_applied_cents: Cents,
    /// Available credit balance applied to the amount due (set once, with its ledger entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_applied_cents: Option<Cents>,
    #[serde(default)]
    pub amount_paid_cents: Cents,
    #[serde(default)]
    pub amount_due_cents: Cents,
    pub currency: String,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_invoice_id: Option<String>,
    #[serde(default)]
    pub hosted_invoice_url: Option<String>,
    #[serde(default)]
    pub invoice_pdf: Option<String>,
    #[serde(default)]
    pub collection_method: Option<String>,
    /// An operator's action that ended collection: a void or a write-off as uncollectible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by_operator: Option<OperatorClosure>,
}

/// Why and by whom an operator voided an invoice or marked it uncollectible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorClosure {
    /// `void` or `uncollectible`.
    pub action: String,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// For a void: whether its usage went back to unbilled.
    #[serde(default)]
    pub usage_returned: bool,
}

impl Invoice {
    pub fn sort_key(created_at: DateTime<Utc>, id: &str) -> String {
        format!("INVOICE#{}#{id}", created_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }

    /// A new draft for the organization's usage recorded up to `cutoff`.
    pub fn draft(org: &OrganizationId, account_id: &str, id: String, cutoff: DateTime<Utc>) -> Self {
        Self {
            pk: format!("ORG#{org}"),
            sk: Self::sort_key(cutoff, &id),
            id,
            organization_id: org.clone(),
            billing_account_id: account_id.to_owned(),
            source: InvoiceSource::Usage,
            status: InvoiceStatus::Draft,
            number: None,
            sequence: None,
            cutoff,
            period_start: None,
            period_end: Some(cutoff),
            line_items: Vec::new(),
            month_charges: None,
            priced: false,
            subtotal_cents: 0,
            discount_cents: 0,
            tax_cents: 0,
            total_cents: 0,
            credits_applied_cents: 0,
            balance_applied_cents: None,
            amount_paid_cents: 0,
            amount_due_cents: 0,
            currency: "usd".to_owned(),
            description: Some(format!("Usage up to {}", cutoff.format("%Y-%m-%d %H:%M UTC"))),
            due_date: None,
            finalized_at: None,
            paid_at: None,
            created_at: cutoff,
            updated_at: cutoff,
            stripe_invoice_id: None,
            hosted_invoice_url: None,
            invoice_pdf: None,
            collection_method: None,
            closed_by_operator: None,
        }
    }

    /// Sets lines and totals from `lines` (credit-paid usage counted as applied credits).
    pub fn price(&mut self, lines: Vec<LineItem>) {
        self.period_start = lines.iter().filter_map(|l| l.period_start).min();
        self.line_items = lines;
        self.priced = true;
        self.retotal();
    }

    /// The totals as the lines and the recorded credits and payments make them.
    pub fn totals(&self) -> Totals {
        Totals::compute(
            &self.line_items,
            self.discount_cents,
            self.tax_cents,
            self.balance_applied_cents.unwrap_or(0),
            self.amount_paid_cents,
        )
    }

    pub fn retotal(&mut self) {
        let t = self.totals();
        self.subtotal_cents = t.subtotal;
        self.total_cents = t.total;
        self.credits_applied_cents = t.credits_applied;
        self.amount_due_cents = t.amount_due;
    }

    /// Ids of every usage record the invoice bills.
    pub fn usage_record_ids(&self) -> impl Iterator<Item = &str> {
        self.line_items.iter().flat_map(|l| l.usage_record_ids.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_issued_unpaid_ones_are_payable() {
        for s in [
            InvoiceStatus::Draft,
            InvoiceStatus::Open,
            InvoiceStatus::Paid,
            InvoiceStatus::PastDue,
            InvoiceStatus::Void,
        ] {
            assert_eq!(InvoiceStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        assert_eq!(InvoiceStatus::parse("pending"), None);
        let payable: Vec<_> = [InvoiceStatus::Draft, InvoiceStatus::Open, InvoiceStatus::Paid, InvoiceStatus::PastDue]
            .into_iter()
            .filter(|s| s.is_payable())
            .collect();
        assert_eq!(payable, vec![InvoiceStatus::Open, InvoiceStatus::PastDue]);
    }

    #[test]
    fn numbers_are_zero_padded_and_ids_sort_by_creation() {
        assert_eq!(invoice_number(1), "INV-000001");
        assert_eq!(invoice_number(1_234_567), "INV-1234567");
        let id = new_invoice_id();
        assert!(id.starts_with("inv_") && crate::ids::is_safe_id(&id), "{id}");
    }
}
