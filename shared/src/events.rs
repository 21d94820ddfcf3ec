//! Domain events on the EventBridge bus.
//!
//! Every event is published with `source = "billing"`, `detail-type` = the event name, and a
//! versioned envelope as `detail`:
//!
//! ```json
//! { "version": 1, "id": "…", "organization_id": "acme", "occurred_at": "2026-11-23T09:30:00Z",
//!   "type": "BudgetWarning", "data": { … } }
//! ```
//!
//! `id` is derived from what caused the event, so a retried publish carries the same id and
//! subscribers can deduplicate. Adding fields to `data` keeps the version; renaming or
//! removing one bumps it.
//!
//! Events announcing a state change are written to the outbox with the change
//! (`store::outbox`) and published from the table's stream by `stream-outbox`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;

pub const SOURCE: &str = "billing";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    /// An LLM call's cost was recorded.
    CostRecorded {
        cost_record_id: String,
        run_id: Option<String>,
        provider: String,
        model: String,
        #[serde(with = "rust_decimal::serde::float")]
        total_cost_usd: Decimal,
        #[serde(with = "rust_decimal::serde::float")]
        billable_usd: Decimal,
        payer: String,
    },
    /// A reservation was refused because nothing was left to pay for the run.
    QuotaExhausted { run_id: String, kind: String },
    /// Month-to-date spend crossed the budget's warning threshold.
    BudgetWarning {
        month: String,
        #[serde(with = "rust_decimal::serde::float")]
        spent_usd: Decimal,
        #[serde(with = "rust_decimal::serde::float")]
        limit_usd: Decimal,
        warn_at_percent: u32,
    },
    /// A subscription invoice could not be paid.
    PaymentFailed {
        invoice_id: String,
        attempt_count: u32,
        #[serde(with = "rust_decimal::serde::float")]
        amount_due_usd: Decimal,
    },
    /// The account was suspended: no new runs until it is reactivated. `reason` is a sentence;
    /// `suspension_reason` the account's code for it (`payment_failed`, `invoice_overdue`) and
    /// `invoice_id` the invoice holding it (absent in events written before they existed).
    AccountSuspended {
        reason: String,
        #[serde(default)]
        suspension_reason: Option<String>,
        #[serde(default)]
        invoice_id: Option<String>,
    },
    /// A suspended account is active again.
    AccountReactivated { reason: String },
    /// Month-to-date spend reached the budget.
    BudgetExceeded {
        month: String,
        #[serde(with = "rust_decimal::serde::float")]
        spent_usd: Decimal,
        #[serde(with = "rust_decimal::serde::float")]
        limit_usd: Decimal,
        hard_cap: bool,
    },
    /// The storage in use rose above the plan's limit (announced once per crossing).
    StorageLimitExceeded {
        #[serde(with = "rust_decimal::serde::float")]
        used_gb: Decimal,
        limit_gb: u32,
    },
    /// A usage invoice's lines and totals were computed (a draft, not yet numbered).
    InvoiceGenerated {
        invoice_id: String,
        #[serde(with = "rust_decimal::serde::float")]
        total_usd: Decimal,
        line_count: u32,
    },
    /// An invoice was numbered and issued.
    InvoiceFinalized {
        invoice_id: String,
        invoice_number: String,
        #[serde(with = "rust_decimal::serde::float")]
        amount_due_usd: Decimal,
        due_date: DateTime<Utc>,
        stripe_invoice_id: Option<String>,
    },
    /// An invoice was paid in full.
    InvoicePaid {
        invoice_id: String,
        #[serde(with = "rust_decimal::serde::float")]
        amount_paid_usd: Decimal,
    },
    /// An open usage invoice passed its due date unpaid and is now past due.
    InvoiceOverdue {
        invoice_id: String,
        invoice_number: Option<String>,
        #[serde(with = "rust_decimal::serde::float")]
        amount_due_usd: Decimal,
        due_date: DateTime<Utc>,
    },
    /// A payment reminder for an unpaid invoice, `offset_days` from its due date (negative:
    /// before it). Sent once per invoice and offset.
    DunningReminder {
        invoice_id: String,
        invoice_number: Option<String>,
        offset_days: i64,
        #[serde(with = "rust_decimal::serde::float")]
        amount_due_usd: Decimal,
        due_date: DateTime<Utc>,
        hosted_invoice_url: Option<String>,
    },
    /// The monthly free quota was restarted for `period` (`YYYY-MM`) by the monthly close.
    FreeQuotaReset { period: String, free_workflows: u32 },
    /// An operator voided an issued invoice: nothing on it is owed any more.
    InvoiceVoided {
        invoice_id: String,
        invoice_number: Option<String>,
        /// Whether its usage went back to unbilled, for the next invoice.
        usage_returned: bool,
        /// Written off in a credit note.
        #[serde(with = "rust_decimal::serde::float")]
        written_off_usd: Decimal,
        /// Balance credits that had paid part of it, returned to the account.
        #[serde(with = "rust_decimal::serde::float")]
        refunded_credits_usd: Decimal,
    },
    /// A trial ends in about three days (Stripe's notice). Without a payment method by then the
    /// subscription is cancelled and the account falls back to the free plan.
    TrialEnding { subscription_id: String, tier: Option<String>, trial_end: DateTime<Utc>, has_payment_method: bool },
    /// An operator wrote an unpaid invoice off as uncollectible (it can still be paid).
    InvoiceMarkedUncollectible {
        invoice_id: String,
        invoice_number: Option<String>,
        #[serde(with = "rust_decimal::serde::float")]
        amount_due_usd: Decimal,
    },
}

impl DomainEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::CostRecorded { .. } => "CostRecorded",
            Self::QuotaExhausted { .. } => "QuotaExhausted",
            Self::BudgetWarning { .. } => "BudgetWarning",
            Self::BudgetExceeded { .. } => "BudgetExceeded",
            Self::PaymentFailed { .. } => "PaymentFailed",
            Self::AccountSuspended { .. } => "AccountSuspended",
            Self::AccountReactivated { .. } => "AccountReactivated",
            Self::StorageLimitExceeded { .. } => "StorageLimitExceeded",
            Self::InvoiceGenerated { .. } => "InvoiceGenerated",
            Self::InvoiceFinalized { .. } => "InvoiceFinalized",
            Self::InvoicePaid { .. } => "InvoicePaid",
            Self::InvoiceOverdue { .. } => "InvoiceOverdue",
            Self::DunningReminder { .. } => "DunningReminder",
            Self::FreeQuotaReset { .. } => "FreeQuotaReset",
            Self::InvoiceVoided { .. } => "InvoiceVoided",
            Self::TrialEnding { .. } => "TrialEnding",
            Self::InvoiceMarkedUncollectible { .. } => "InvoiceMarkedUncollectible",
        }
    }

    /// Every event type, for checks that each has a subscriber.
    pub const NAMES: [&'static str; 17] = [
        "CostRecorded",
        "QuotaExhausted",
        "BudgetWarning",
        "BudgetExceeded",
        "PaymentFailed",
        "AccountSuspended",
        "AccountReactivated",
        "StorageLimitExceeded",
        "InvoiceGenerated",
        "InvoiceFinalized",
        "InvoicePaid",
        "InvoiceOverdue",
        "DunningReminder",
        "FreeQuotaReset",
        "InvoiceVoided",
        "InvoiceMarkedUncollectible",
        "TrialEnding",
    ];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub version: u32,
    pub id: String,
    pub organization_id: OrganizationId,
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: DomainEvent,
}

impl Envelope {
    pub fn new(id: impl Into<String>, org: &OrganizationId, occurred_at: DateTime<Utc>, event: DomainEvent) -> Self {
        Self { version: SCHEMA_VERSION, id: id.into(), organization_id: org.clone(), occurred_at, event }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("EventBridge PutEvents failed: {0}")]
    Send(String),
    #[error("EventBridge rejected the event: {0}")]
    Rejected(String),
}

/// Publishes to the configured bus. Without a bus (a function that does not emit), publishing
/// is an error rather than a silent drop.
#[derive(Debug, Clone)]
pub struct Publisher {
    client: aws_sdk_eventbridge::Client,
    bus: Option<String>,
}

impl Publisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: Option<String>) -> Self {
        Self { client, bus }
    }

    pub async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let bus = self.bus.as_deref().ok_or_else(|| PublishError::Send("EVENT_BUS_NAME is not configured".into()))?;
        let detail = serde_json::to_string(envelope).map_err(|e| PublishError::Send(e.to_string()))?;
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(bus)
            .source(SOURCE)
            .detail_type(envelope.event.name())
            .detail(detail)
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| PublishError::Send(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string()))?;
        if out.failed_entry_count() > 0 {
            let reason = out.entries().iter().filter_map(|e| e.error_message()).collect::<Vec<_>>().join("; ");
            return Err(PublishError::Rejected(reason));
        }
        tracing::info!(event = envelope.event.name(), event_id = %envelope.id, org = %envelope.organization_id, "domain event published");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_envelope_carries_version_type_and_data() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
        let event = DomainEvent::BudgetWarning {
            month: "2026-11".into(),
            spent_usd: Decimal::new(8050, 2),
            limit_usd: Decimal::from(100),
            warn_at_percent: 80,
        };
        let json =
            serde_json::to_value(Envelope::new("w-1", &OrganizationId::parse("acme").unwrap(), at, event)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "version": 1, "id": "w-1", "organization_id": "acme", "occurred_at": "2026-11-23T09:30:00Z",
                "type": "BudgetWarning",
                "data": { "month": "2026-11", "spent_usd": 80.5, "limit_usd": 100.0, "warn_at_percent": 80 }
            })
        );
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back.event.name(), "BudgetWarning");
    }
}
