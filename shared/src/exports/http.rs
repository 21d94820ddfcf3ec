//! CSV exports of the list routes (`GET .../export/{kind}`): the same records, filters and
//! cursors as `/usage`, `/costs` and `/invoices`, as rows of text. Money is a plain decimal
//! string in dollars (`12.50`), never a float; times are RFC 3339 UTC; absent values are
//! empty cells. Quoting is the CSV writer's job (the function package's).

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;

use crate::costs::http::CostRecordResponse;
use crate::invoicing::http::InvoiceResponse;
use crate::quota::http::UsageRecordResponse;

/// Rows in one response when the query names no `limit`; the rest follow by cursor.
pub const EXPORT_ROWS: usize = 5_000;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Usage,
    Costs,
    Invoices,
}

impl ExportKind {
    pub const NAMES: [&'static str; 3] = ["usage", "costs", "invoices"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Usage => "usage",
            Self::Costs => "costs",
            Self::Invoices => "invoices",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ExportError> {
        match raw {
            "usage" => Ok(Self::Usage),
            "costs" => Ok(Self::Costs),
            "invoices" => Ok(Self::Invoices),
            _ => Err(ExportError::UnknownKind),
        }
    }

    /// The filter only this kind reads (`billed` for usage, `status` for invoices).
    pub fn own_filter(self) -> Option<&'static str> {
        match self {
            Self::Usage => Some("billed"),
            Self::Costs => None,
            Self::Invoices => Some("status"),
        }
    }

    /// The header row.
    pub fn header(self) -> &'static [&'static str] {
        match self {
            Self::Usage => &USAGE_HEADER,
            Self::Costs => &COSTS_HEADER,
            Self::Invoices => &INVOICES_HEADER,
        }
    }
}

/// An export request that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("There is no such export; kind is one of usage, costs or invoices.")]
    UnknownKind,
    #[error("limit must be a whole number from 1 to 5000.")]
    InvalidLimit,
    #[error("{filter} applies only to the {only} export.")]
    NotForKind { filter: &'static str, only: &'static str },
}

/// The rows one response carries: `limit` (1–5000) or [`EXPORT_ROWS`].
pub fn export_limit(raw: Option<&str>) -> Result<usize, ExportError> {
    match raw {
        None => Ok(EXPORT_ROWS),
        Some(raw) => {
            raw.parse::<usize>().ok().filter(|n| (1..=EXPORT_ROWS).contains(n)).ok_or(ExportError::InvalidLimit)
        }
    }
}

/// Refuses a filter the kind does not read, rather than export unfiltered rows as if it
/// applied.
pub fn check_filters(kind: ExportKind, given: &[(&'static str, bool)]) -> Result<(), ExportError> {
    for (filter, present) in given {
        // Invoices are always newest first; the records can be read either way.
        let applies = match *filter {
            "order" => kind != ExportKind::Invoices,
            filter => kind.own_filter() == Some(filter),
        };
        if *present && !applies {
            let only = match *filter {
                "billed" => "usage",
                "order" => "usage and costs",
                _ => "invoices",
            };
            return Err(ExportError::NotForKind { filter, only });
        }
    }
    Ok(())
}

/// The attachment's file name: `<org>-<kind>.csv` (organization ids are `[A-Za-z0-9_-]`, so
/// nothing needs escaping inside the header's quotes).
pub fn file_name(org: &crate::ids::OrganizationId, kind: ExportKind) -> String {
    format!("{org}-{}.csv", kind.as_str())
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true)).unwrap_or_default()
}

fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

/// A dollar amount as written: `Decimal`'s own text, no float on the way.
fn money(amount: Decimal) -> String {
    amount.to_string()
}

const USAGE_HEADER: [&str; 13] = [
    "id",
    "recorded_at",
    "run_id",
    "usage_type",
    "kind",
    "bucket",
    "quantity",
    "unit_price",
    "total_price",
    "free_tier_used",
    "billed",
    "invoice_id",
    "billed_at",
];

pub fn usage_row(record: &UsageRecordResponse) -> Vec<String> {
    let detail = |name: &str| {
        record.usage_details.as_ref().and_then(|d| d.get(name)).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
    };
    vec![
        record.id.clone(),
        time(record.recorded_at),
        detail("run_id"),
        record.usage_type.clone(),
        detail("kind"),
        detail("bucket"),
        record.quantity.to_string(),
        money(record.unit_price),
        money(record.total_price),
        record.free_tier_used.to_string(),
        record.billed.to_string(),
        text(record.invoice_id.as_deref()),
        time(record.billed_at),
    ]
}

const COSTS_HEADER: [&str; 14] = [
    "id",
    "recorded_at",
    "task_id",
    "agent_id",
    "sandbox_id",
    "provider",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_cost",
    "completion_cost",
    "total_cost",
    "billable_cost",
];

pub fn cost_row(record: &CostRecordResponse) -> Vec<String> {
    vec![
        record.id.clone(),
        time(record.recorded_at),
        record.task_id.clone(),
        text(record.agent_id.as_deref()),
        text(record.sandbox_id.as_deref()),
        record.provider.clone(),
        record.model.clone(),
        record.prompt_tokens.to_string(),
        record.completion_tokens.to_string(),
        record.total_tokens.to_string(),
        money(record.prompt_cost),
        money(record.completion_cost),
        money(record.total_cost),
        money(record.billable_cost),
    ]
}

const INVOICES_HEADER: [&str; 19] = [
    "id",
    "invoice_number",
    "status",
    "description",
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
    "due_date",
    "finalized_at",
    "paid_at",
    "created_at",
    "hosted_invoice_url",
];

pub fn invoice_row(invoice: &InvoiceResponse) -> Vec<String> {
    vec![
        invoice.id.clone(),
        invoice.invoice_number.clone(),
        invoice.status.as_str().to_owned(),
        text(invoice.description.as_deref()),
        time(invoice.period_start),
        time(invoice.period_end),
        money(invoice.subtotal),
        money(invoice.tax_amount),
        money(invoice.discount_amount),
        money(invoice.total),
        money(invoice.credits_applied),
        money(invoice.amount_due),
        money(invoice.amount_paid),
        invoice.currency.clone(),
        time(invoice.due_date),
        time(invoice.finalized_at),
        time(invoice.paid_at),
        time(invoice.created_at),
        text(invoice.hosted_invoice_url.as_deref()),
    ]
}

// How this concern's errors reach a client (status and code).

impl From<crate::exports::http::ExportError> for crate::error::ApiError {
    fn from(err: crate::exports::http::ExportError) -> Self {
        use crate::exports::http::ExportError;
        match err {
            ExportError::UnknownKind => Self::not_found("unknown_export", err.to_string()),
            ExportError::InvalidLimit | ExportError::NotForKind { .. } => {
                Self::bad_request("invalid_query", err.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_limits_and_filters_are_checked_before_anything_is_read() {
        assert_eq!(ExportKind::NAMES.map(|n| ExportKind::parse(n).map(ExportKind::as_str)), ExportKind::NAMES.map(Ok));
        assert_eq!(ExportKind::parse("ledger"), Err(ExportError::UnknownKind));
        assert_eq!(export_limit(None), Ok(5_000));
        assert_eq!(export_limit(Some("2")), Ok(2));
        for bad in ["0", "5001", "-1", "all"] {
            assert_eq!(export_limit(Some(bad)), Err(ExportError::InvalidLimit), "{bad}");
        }
        assert_eq!(check_filters(ExportKind::Usage, &[("billed", true), ("status", false)]), Ok(()));
        assert_eq!(
            check_filters(ExportKind::Costs, &[("billed", true)]),
            Err(ExportError::NotForKind { filter: "billed", only: "usage" })
        );
        assert!(check_filters(ExportKind::Usage, &[("status", true)]).is_err());
        assert_eq!(check_filters(ExportKind::Costs, &[("order", true)]), Ok(()));
        assert_eq!(
            check_filters(ExportKind::Invoices, &[("order", true)]),
            Err(ExportError::NotForKind { filter: "order", only: "usage and costs" })
        );
    }

    #[test]
    fn every_row_has_a_cell_for_each_column_and_money_is_plain_decimal_text() {
        let record = CostRecordResponse {
            id: "c1".into(),
            task_id: String::new(),
            agent_id: None,
            sandbox_id: None,
            billing_account_id: None,
            provider: "openai".into(),
            model: "gpt-4o".into(),
            prompt_tokens: 1,
            completion_tokens: 2,
            total_tokens: 3,
            prompt_cost: Decimal::new(1, 1),
            completion_cost: Decimal::new(20, 2),
            total_cost: Decimal::new(30, 2),
            recorded_at: None,
            billable_cost: Decimal::new(360_000, 6),
        };
        let row = cost_row(&record);
        assert_eq!(row.len(), ExportKind::Costs.header().len());
        assert_eq!(&row[10..], ["0.1", "0.20", "0.30", "0.360000"]);
        assert_eq!(row[1], "", "an absent time is an empty cell");
    }
}
