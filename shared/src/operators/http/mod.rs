//! Shapes of the operators' routes (`/api/billing/admin/...`).

pub mod directory;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::rules::limits::{LimitOverride, LimitOverrides, LimitsInForce};
use crate::operators::rules::audit::AuditEntry;
use crate::operators::store::Standing;

/// Every operator action says why.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminReasonRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// An account's standing after an operator's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountStandingResponse {
    pub organization_id: String,
    /// `active` or `suspended`.
    pub status: String,
    /// `operator`, `payment_failed` or `invoice_overdue` while suspended.
    pub suspension_reason: Option<String>,
    /// The operator's reason, for an operator's suspension.
    pub suspension_note: Option<String>,
}

impl AccountStandingResponse {
    pub fn new(org: &str, standing: &Standing) -> Self {
        Self {
            organization_id: org.to_owned(),
            status: standing.status.clone(),
            suspension_reason: standing.suspension_reason.clone(),
            suspension_note: standing.suspension_note.clone(),
        }
    }
}

/// `POST admin/accounts/{org}/credits`: a signed amount (negative removes).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditGrantRequest {
    #[serde(deserialize_with = "crate::money::usd::deserialize")]
    pub amount_usd: rust_decimal::Decimal,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// A grant's result and the balances after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditGrantResponse {
    pub organization_id: String,
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_usd: rust_decimal::Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub available_usd: rust_decimal::Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub held_usd: rust_decimal::Decimal,
    pub ledger_entry_id: String,
}

/// `PUT admin/accounts/{org}/limits`: the overrides wanted (an absent one: the tier's limit).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    #[serde(default)]
    pub workflows_per_month: Option<LimitOverride>,
    #[serde(default)]
    pub concurrent_agents: Option<LimitOverride>,
    #[serde(default)]
    pub storage_gb: Option<LimitOverride>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

impl LimitsRequest {
    pub fn overrides(&self) -> LimitOverrides {
        LimitOverrides {
            workflows_per_month: self.workflows_per_month,
            concurrent_agents: self.concurrent_agents,
            storage_gb: self.storage_gb,
        }
    }
}

/// The overrides set and the limits in force now (`null` = unlimited).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LimitsResponse {
    pub organization_id: String,
    pub tier: String,
    pub overrides: LimitOverrides,
    pub in_force: LimitsInForce,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntryResponse {
    pub id: String,
    /// The organization changed; `null` for a flag's global or tier change.
    pub organization_id: Option<String>,
    /// The flag changed, for flag changes.
    pub flag: Option<String>,
    /// The queue acted on, for redrives (`after` is `null` while one has not finished).
    pub queue: Option<String>,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl From<&AuditEntry> for AuditEntryResponse {
    fn from(e: &AuditEntry) -> Self {
        Self {
            id: e.id.clone(),
            organization_id: e.organization_id.as_ref().map(ToString::to_string),
            flag: e.flag.as_ref().map(ToString::to_string),
            queue: e.queue.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            reason: e.reason.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            at: e.at,
        }
    }
}

/// `GET /api/billing/admin/health`: queues, schedules, Stripe and the table at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HealthResponse {
    pub checked_at: DateTime<Utc>,
    /// Every queue and dead-letter queue this function was given.
    pub queues: Vec<QueueHealth>,
    /// Every scheduled job, with its last run (none yet: `outcome = never`).
    pub schedules: Vec<ScheduleHealth>,
    pub stripe: StripeHealth,
    pub table: TableHealth,
}

/// A queue's depth as SQS counts it (approximate by design; exact when idle), and the age of
/// its oldest message as CloudWatch last saw it (SQS itself cannot tell that without
/// receiving, and so disturbing, messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueHealth {
    /// Logical id in the template, e.g. `UsageDeadLetterQueue`.
    pub name: String,
    /// Short name accepted by the redrive route, e.g. `usage-dlq`.
    pub alias: String,
    pub dead_letter_queue: bool,
    /// The queue a redrive sends this dead-letter queue's messages back to (its logical id);
    /// `null` for a queue that is not redriven: a source queue, or one holding records to read
    /// rather than messages to redeliver (stream batches and asynchronous invocations that
    /// failed).
    pub redrives_to: Option<String>,
    /// Messages waiting (`ApproximateNumberOfMessages`).
    pub visible: Option<i64>,
    /// Messages received and not yet deleted (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: Option<i64>,
    /// Messages sent with a delay not yet over (`ApproximateNumberOfMessagesDelayed`).
    pub delayed: Option<i64>,
    /// Seconds the oldest message has waited: the newest datapoint of the last five minutes of
    /// CloudWatch's `AWS/SQS` `ApproximateAgeOfOldestMessage` (per-minute maximum). `null`
    /// when CloudWatch has none in that window (SQS stops publishing for an idle queue) or
    /// could not be asked.
    #[schema(minimum = 0)]
    pub oldest_message_age_seconds: Option<u64>,
    /// Why the counts are missing, when SQS could not be asked.
    pub error: Option<String>,
}

/// A scheduled job's last run (`SCHEDULE#<job>` / `LASTRUN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleHealth {
    pub job: String,
    /// `ok`, `error`, or `never` when it has not run yet.
    pub outcome: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// Whether an authenticated Stripe call succeeds within the health check's time limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StripeHealth {
    /// `ok`, `unreachable` or `not_configured`.
    pub status: String,
    pub latency_ms: Option<u64>,
    /// What went wrong, when unreachable.
    pub error: Option<String>,
}

/// `DescribeTable`: status and DynamoDB's item-count estimate (refreshed about every 6 hours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TableHealth {
    /// `ACTIVE`, `UPDATING`, … or `unreachable`.
    pub status: String,
    pub item_count: Option<i64>,
    pub size_bytes: Option<i64>,
}

/// What a redrive moved back from a dead-letter queue to its source queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RedriveResponse {
    /// The dead-letter queue's logical id.
    pub queue: String,
    /// The queue the messages went back to.
    pub source_queue: String,
    /// Messages sent to the source queue and deleted from the dead-letter queue.
    pub moved: u32,
    /// Messages the source queue refused (they stay in the dead-letter queue).
    pub failed: u32,
    /// `true` when the call stopped at its cap with messages left; call again.
    pub capped: bool,
    /// Id of the audit entry (`QUEUE#<queue>` / `AUDIT#…`).
    pub audit_id: String,
}
