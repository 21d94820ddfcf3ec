//! The frontend guide's `InvoiceResponse`, field for field, plus `hosted_invoice_url` and
//! `invoice_pdf` from Stripe; and `LineItem`, which the guide leaves open: every line names
//! the usage records it bills, so it can be traced back to the runs behind it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::invoicing::rules::void::CreditNote;
use crate::invoicing::rules::{Invoice, InvoiceStatus, LineItem};
use crate::money::dollars;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineItemResponse {
    pub description: String,
    pub usage_type: String,
    pub quantity: u64,
    #[serde(with = "rust_decimal::serde::float")]
    pub unit_price: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount: Decimal,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub usage_record_ids: Vec<String>,
}

impl From<&LineItem> for LineItemResponse {
    fn from(line: &LineItem) -> Self {
        Self {
            description: line.description.clone(),
            usage_type: line.usage_type.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price,
            amount: dollars(line.amount_cents),
            period_start: line.period_start,
            period_end: line.period_end,
            usage_record_ids: line.usage_record_ids.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceResponse {
    pub id: String,
    /// Empty for a draft: numbers are given at finalization.
    pub invoice_number: String,
    pub billing_account_id: String,
    pub ticket_id: Option<String>,
    pub stripe_invoice_id: Option<String>,
    pub status: InvoiceStatus,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    #[serde(with = "rust_decimal::serde::float")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub tax_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub discount_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub credits_applied: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_due: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_paid: Decimal,
    pub currency: String,
    pub line_items: Vec<LineItemResponse>,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub hosted_invoice_url: Option<String>,
    pub invoice_pdf: Option<String>,
}

impl From<&Invoice> for InvoiceResponse {
    fn from(invoice: &Invoice) -> Self {
        Self {
            id: invoice.id.clone(),
            invoice_number: invoice.number.clone().unwrap_or_default(),
            billing_account_id: invoice.billing_account_id.clone(),
            ticket_id: None,
            stripe_invoice_id: invoice.stripe_invoice_id.clone(),
            status: invoice.status,
            period_start: invoice.period_start,
            period_end: invoice.period_end,
            subtotal: dollars(invoice.subtotal_cents),
            tax_amount: dollars(invoice.tax_cents),
            discount_amount: dollars(invoice.discount_cents),
            total: dollars(invoice.total_cents),
            credits_applied: dollars(invoice.credits_applied_cents),
            amount_due: dollars(invoice.amount_due_cents),
            amount_paid: dollars(invoice.amount_paid_cents),
            currency: invoice.currency.clone(),
            line_items: invoice.line_items.iter().map(LineItemResponse::from).collect(),
            description: invoice.description.clone(),
            due_date: invoice.due_date,
            finalized_at: invoice.finalized_at,
            paid_at: invoice.paid_at,
            created_at: Some(invoice.created_at),
            hosted_invoice_url: invoice.hosted_invoice_url.clone(),
            invoice_pdf: invoice.invoice_pdf.clone(),
        }
    }
}

impl InvoiceResponse {
    /// The frontend guide's `InvoiceResponse` fields, which this shape keeps field for field.
    pub const GUIDE_FIELDS: [&'static str; 22] = [
        "id",
        "invoice_number",
        "billing_account_id",
        "ticket_id",
        "stripe_invoice_id",
        "status",
        "period_start",
        "period_end",
        "subtotal",
        "tax_amount",
        "discount_amount",
        "total",
        "credits_applied",
        "amount_due",
        "amount_paid",
        "currency",
        "line_items",
        "description",
        "due_date",
        "finalized_at",
        "paid_at",
        "created_at",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrganizationId;
    use chrono::TimeZone;

    #[test]
    fn the_response_has_every_field_of_the_guide_in_dollars() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let mut invoice = Invoice::draft(&OrganizationId::parse("acme").unwrap(), "acct", "inv_1".into(), at);
        invoice.subtotal_cents = 2_550;
        invoice.total_cents = 2_550;
        invoice.credits_applied_cents = 1_000;
        invoice.amount_due_cents = 1_550;
        let json = serde_json::to_value(InvoiceResponse::from(&invoice)).unwrap();
        let fields: std::collections::BTreeSet<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        for field in InvoiceResponse::GUIDE_FIELDS.iter().chain(&["hosted_invoice_url", "invoice_pdf"]) {
            assert!(fields.contains(field), "missing {field}");
        }
        assert_eq!(fields.len(), 24);
        assert_eq!((json["subtotal"].as_f64(), json["amount_due"].as_f64()), (Some(25.5), Some(15.5)));
        assert_eq!((json["status"].as_str(), json["invoice_number"].as_str()), (Some("draft"), Some("")));
    }
}

/// `POST admin/invoices/{invoice_id}/void`: why, and whether its usage is billed again
/// (default `true`: it goes back to unbilled; `false`: it is written off with the rest).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInvoiceRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
    #[serde(default)]
    pub rebill_usage: Option<bool>,
}

/// `ORG#<org>/CREDITNOTE#<invoice>`: what voiding an invoice wrote off, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditNoteResponse {
    pub invoice_id: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_usd: Decimal,
    pub lines: Vec<LineItemResponse>,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<&CreditNote> for CreditNoteResponse {
    fn from(note: &CreditNote) -> Self {
        Self {
            invoice_id: note.invoice_id.clone(),
            amount_usd: dollars(note.amount_cents),
            lines: note.lines.iter().map(LineItemResponse::from).collect(),
            reason: note.reason.clone(),
            created_by: note.created_by.clone(),
            created_at: note.created_at,
        }
    }
}

/// An invoice an operator closed, and what closing it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceActionResponse {
    pub invoice: InvoiceResponse,
    /// `void` or `uncollectible`.
    pub action: String,
    pub reason: String,
    pub closed_by: String,
    pub closed_at: DateTime<Utc>,
    /// Whether the invoice's usage went back to unbilled (voids).
    pub usage_returned: bool,
    /// Usage records handed back by this call.
    pub usage_records_returned: u32,
    /// Written off in the credit note; `null` when nothing was.
    #[serde(with = "rust_decimal::serde::float_option")]
    pub credit_note_usd: Option<Decimal>,
    /// Balance credits returned to the account by this call.
    #[serde(with = "rust_decimal::serde::float")]
    pub refunded_credits_usd: Decimal,
}

impl InvoiceActionResponse {
    pub fn new(
        invoice: &Invoice,
        closure: &crate::invoicing::rules::OperatorClosure,
        usage_records_returned: u32,
        credit_note_cents: Option<crate::money::Cents>,
        refunded_cents: crate::money::Cents,
    ) -> Self {
        Self {
            invoice: InvoiceResponse::from(invoice),
            action: closure.action.clone(),
            reason: closure.reason.clone(),
            closed_by: closure.by.clone(),
            closed_at: closure.at,
            usage_returned: closure.usage_returned,
            usage_records_returned,
            credit_note_usd: credit_note_cents.map(dollars),
            refunded_credits_usd: dollars(refunded_cents),
        }
    }
}
