//! `GET .../credits`: the prepaid balance (available, and held by running workflows) and the
//! most recent ledger entries.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::dollars;
use crate::usage::rules::{LedgerEntry, LedgerKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerLine {
    pub id: String,
    pub kind: LedgerKind,
    /// Dollars; negative when credits were spent.
    #[serde(with = "rust_decimal::serde::float")]
    pub amount: Decimal,
    pub reason: String,
    pub run_id: Option<String>,
    /// The Checkout session that bought these credits, so the page Checkout returns to can
    /// tell when its purchase has been applied.
    pub checkout_session_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<LedgerEntry> for LedgerLine {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            amount: dollars(e.amount_cents),
            reason: e.reason,
            run_id: e.run_id,
            // Purchases are keyed `checkout-<session id>` (flows::stripe_events).
            checkout_session_id: e.idempotency_key.strip_prefix("checkout-").map(str::to_owned),
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditsResponse {
    #[serde(with = "rust_decimal::serde::float")]
    pub available: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub held: Decimal,
    pub entries: Vec<LedgerLine>,
}
