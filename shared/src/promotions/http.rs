//! Shapes of the operators' promotion-code routes (`/admin/promo-codes...`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::dollars;
use crate::promotions::rules::{Discount, PromoDuration, PromoRequest};
use crate::promotions::store::PromoCodeItem;

/// `POST admin/promo-codes`: exactly one of `percent_off` and `amount_off_usd`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoCodeRequest {
    #[schema(pattern = "^[A-Za-z0-9_-]{3,40}$")]
    pub code: String,
    #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
    #[schema(value_type = Option<f64>, minimum = 0.01, maximum = 100)]
    pub percent_off: Option<Decimal>,
    #[serde(default, deserialize_with = "crate::money::usd::option::deserialize")]
    #[schema(value_type = Option<f64>, minimum = 0.01)]
    pub amount_off_usd: Option<Decimal>,
    pub duration: PromoDuration,
    /// For `repeating`: 1 to 36.
    #[schema(minimum = 1, maximum = 36)]
    pub duration_in_months: Option<u32>,
    #[schema(minimum = 1)]
    pub max_redemptions: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Subscribable tier ids, workflow pack ids or `lifetime`; absent or empty: all of them.
    pub applies_to: Option<Vec<String>>,
}

impl PromoCodeRequest {
    pub fn to_request(&self) -> PromoRequest {
        PromoRequest {
            code: self.code.clone(),
            percent_off: self.percent_off,
            amount_off_usd: self.amount_off_usd,
            duration: Some(self.duration),
            duration_in_months: self.duration_in_months,
            max_redemptions: self.max_redemptions,
            expires_at: self.expires_at,
            applies_to: self.applies_to.clone(),
        }
    }
}

/// A promotion code, its counts and its Stripe mirror.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PromoCodeResponse {
    pub code: String,
    #[serde(with = "rust_decimal::serde::float_option")]
    #[schema(value_type = Option<f64>)]
    pub percent_off: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option")]
    #[schema(value_type = Option<f64>)]
    pub amount_off_usd: Option<Decimal>,
    pub duration: PromoDuration,
    pub duration_in_months: Option<u32>,
    pub max_redemptions: Option<u32>,
    /// Checkouts paid with the code.
    pub times_redeemed: u32,
    /// Checkouts open with the code (each holds one redemption).
    pub pending_redemptions: u32,
    pub expires_at: Option<DateTime<Utc>>,
    pub applies_to: Vec<String>,
    pub active: bool,
    pub stripe_coupon_id: String,
    pub stripe_promotion_code_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl From<&PromoCodeItem> for PromoCodeResponse {
    fn from(item: &PromoCodeItem) -> Self {
        let def = &item.definition;
        let (percent_off, amount_off_usd) = match def.discount {
            Discount::PercentOff(p) => (Some(p), None),
            Discount::AmountOff(cents) => (None, Some(dollars(cents))),
        };
        Self {
            code: def.code.to_string(),
            percent_off,
            amount_off_usd,
            duration: def.duration,
            duration_in_months: def.duration_in_months,
            max_redemptions: def.max_redemptions,
            times_redeemed: item.redeemed,
            pending_redemptions: item.taken.saturating_sub(item.redeemed),
            expires_at: def.expires_at,
            applies_to: def.applies_to.clone(),
            active: item.active,
            stripe_coupon_id: item.stripe_coupon_id.clone(),
            stripe_promotion_code_id: item.stripe_promotion_code_id.clone(),
            created_at: item.created_at,
            created_by: item.created_by.clone(),
            deactivated_at: item.deactivated_at,
        }
    }
}

/// `GET admin/promo-codes`: every code, in code order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PromoCodeListResponse {
    pub promo_codes: Vec<PromoCodeResponse>,
}
