//! What an open reservation looks like on the account: the run's kind, the bucket that pays,
//! the amount set aside. They sit here, with the account that carries them, so the account
//! needs nothing from `crate::quota` (whose rules decide them) and the two do not import each
//! other.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::rules::RunPrices;
use crate::money::Cents;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Standard,
    Complex,
}

impl RunKind {
    pub fn price(self, prices: &RunPrices) -> Decimal {
        match self {
            Self::Standard => prices.standard,
            Self::Complex => prices.complex,
        }
    }
}

/// Where a run's cost is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Free,
    Credits,
    Subscription,
    Overage,
    Unlimited,
}

/// An open reservation: an entry of the account's `holds` map under its run id, or (for
/// tiers without a concurrency limit) its own run item.
///
/// Attribute names are one letter because every byte of the account item is paid for on
/// every write to it (`k`ind, `b`ucket, `a`mount, `p`eriod, `c`reated, `e`xpires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    #[serde(rename = "k")]
    pub kind: RunKind,
    #[serde(rename = "b")]
    pub bucket: Bucket,
    /// Credits set aside (credits bucket) or the price to invoice (overage); 0 otherwise.
    #[serde(rename = "a", default, skip_serializing_if = "is_zero")]
    pub amount_cents: Cents,
    /// The period the unit was taken from (free or subscription bucket), so a refund after
    /// the period rolled over does not inflate the new period's quota.
    #[serde(rename = "p", default, skip_serializing_if = "String::is_empty")]
    pub period: String,
    /// Milliseconds.
    #[serde(rename = "c", with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
    /// Unix seconds; compared in DynamoDB conditions by the sweeper and heartbeat.
    #[serde(rename = "e")]
    pub expires_at: i64,
    /// Random: with `created_at`, tells this hold from a later hold of the same run id made in
    /// the same millisecond. Settling writes require it, so a settlement decided for one hold
    /// never applies to another.
    #[serde(rename = "i", default)]
    pub id: u32,
}

fn is_zero(cents: &Cents) -> bool {
    *cents == 0
}

impl Hold {
    pub fn created_millis(&self) -> i64 {
        self.created_at.timestamp_millis()
    }

    /// Whether `other` is this very hold (perhaps renewed since), not another hold of the
    /// same run id.
    pub fn is_same(&self, other: &Hold) -> bool {
        self.id == other.id && self.created_millis() == other.created_millis()
    }
}
