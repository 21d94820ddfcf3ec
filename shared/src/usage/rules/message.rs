//! The usage queue's messages, as the workflow engine sends them: a committed run's usage or
//! one LLM call's cost. Pure data with its checks; the consumer is `crate::usage::flow`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::costs::rules::Payer;
use crate::ids::OrganizationId;

/// A message on the usage queue, as the workflow engine sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum UsageMessage {
    RunCompleted {
        event_id: String,
        organization_id: OrganizationId,
        run_id: String,
        #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
        actual_cost_usd: Option<Decimal>,
        #[serde(default)]
        overage_approved: bool,
        #[serde(default)]
        details: Option<serde_json::Value>,
    },
    RunFailed {
        event_id: String,
        organization_id: OrganizationId,
        run_id: String,
        #[serde(default)]
        reason: Option<String>,
    },
    RunCancelled {
        event_id: String,
        organization_id: OrganizationId,
        run_id: String,
        #[serde(default)]
        reason: Option<String>,
    },
    LlmCall(LlmCall),
    /// How much storage the organization uses now (the workflow engine reports it).
    StorageSnapshot {
        organization_id: OrganizationId,
        #[serde(deserialize_with = "crate::money::usd::deserialize")]
        used_gb: Decimal,
        recorded_at: chrono::DateTime<chrono::Utc>,
    },
}

impl UsageMessage {
    pub fn organization_id(&self) -> &OrganizationId {
        match self {
            Self::RunCompleted { organization_id, .. }
            | Self::RunFailed { organization_id, .. }
            | Self::RunCancelled { organization_id, .. }
            | Self::LlmCall(LlmCall { organization_id, .. })
            | Self::StorageSnapshot { organization_id, .. } => organization_id,
        }
    }
}

/// An `llm_call` message: one call to an LLM provider.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmCall {
    pub event_id: String,
    pub organization_id: OrganizationId,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub sandbox_id: Option<String>,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
    pub prompt_cost_usd: Option<Decimal>,
    #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
    pub completion_cost_usd: Option<Decimal>,
    pub payer: Payer,
    pub recorded_at: DateTime<Utc>,
}

/// A provider or model name: it becomes part of aggregate keys, so `#` and spaces are out.
pub fn is_model_name(raw: &str) -> bool {
    (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
}
