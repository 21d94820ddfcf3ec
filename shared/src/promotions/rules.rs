//! Promotion codes: what an operator defines (a discount, how long it lasts, how often and
//! until when it may be redeemed, what it applies to) and the rules a checkout must pass to
//! redeem one. Each organization redeems a code at most once. The counts live in the store
//! (a checkout holds a redemption until it completes or expires); the coupon lives in Stripe.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::rules::Catalog;
use crate::money::{Cents, exact_cents};

/// Longest repeating discount, in months.
pub const MAX_REPEATING_MONTHS: u32 = 36;

/// A code as customers type it, kept in upper case: `NEWYEAR-2027`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PromoCodeName(String);

impl PromoCodeName {
    /// 3 to 40 letters, digits, `-` or `_`; case does not matter.
    pub fn parse(raw: &str) -> Result<Self, PromoError> {
        let code = raw.trim().to_ascii_uppercase();
        let valid = (3..=40).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if valid { Ok(Self(code)) } else { Err(PromoError::InvalidCode) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PromoCodeName {
    type Error = PromoError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<PromoCodeName> for String {
    fn from(code: PromoCodeName) -> Self {
        code.0
    }
}

impl fmt::Display for PromoCodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the code takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Discount {
    /// A percentage of the price, above 0 and at most 100.
    PercentOff(Decimal),
    /// A fixed amount, in cents.
    AmountOff(Cents),
}

/// How many invoices of a subscription the discount applies to (one-time purchases: once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromoDuration {
    Once,
    Repeating,
    Forever,
}

impl PromoDuration {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Repeating => "repeating",
            Self::Forever => "forever",
        }
    }
}

/// What a checkout sells, as a code's `applies_to` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromoTarget<'a> {
    /// A subscription to a tier, by tier id.
    Tier(&'a str),
    /// A workflow pack, by pack id.
    Pack(&'a str),
    /// The lifetime plan (`"lifetime"`).
    Lifetime,
}

impl PromoTarget<'_> {
    pub fn id(&self) -> &str {
        match self {
            Self::Tier(id) | Self::Pack(id) => id,
            Self::Lifetime => LIFETIME,
        }
    }
}

const LIFETIME: &str = "lifetime";

/// An operator's promotion code, as defined (its counts are the store's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoDefinition {
    pub code: PromoCodeName,
    pub discount: Discount,
    pub duration: PromoDuration,
    /// For `repeating`: how many months.
    pub duration_in_months: Option<u32>,
    /// Redemptions allowed over all organizations; `None`: no limit.
    pub max_redemptions: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Tier, pack or `lifetime` ids; empty: every tier, pack and lifetime.
    pub applies_to: Vec<String>,
}

/// What an operator asks for, before checking.
#[derive(Debug, Clone, Default)]
pub struct PromoRequest {
    pub code: String,
    pub percent_off: Option<Decimal>,
    pub amount_off_usd: Option<Decimal>,
    pub duration: Option<PromoDuration>,
    pub duration_in_months: Option<u32>,
    pub max_redemptions: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub applies_to: Option<Vec<String>>,
}

/// Why a definition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromoError {
    #[error("A promo code is 3 to 40 letters, digits, '-' or '_'.")]
    InvalidCode,
    #[error("Give exactly one of percent_off and amount_off_usd.")]
    DiscountRequired,
    #[error("percent_off must be above 0 and at most 100.")]
    InvalidPercent,
    #[error("amount_off_usd must be above zero, in whole cents.")]
    InvalidAmount,
    #[error("duration must be one of once, repeating, forever.")]
    DurationRequired,
    #[error("A repeating code needs duration_in_months from 1 to {MAX_REPEATING_MONTHS}.")]
    MonthsRequired,
    #[error("duration_in_months is only for a repeating code.")]
    MonthsNotAllowed,
    #[error("max_redemptions must be at least 1.")]
    InvalidMaxRedemptions,
    #[error("expires_at must be in the future.")]
    ExpiryInPast,
    #[error("applies_to names {0:?}, which is no subscribable tier, workflow pack or \"lifetime\".")]
    UnknownTarget(String),
}

impl PromoRequest {
    /// The definition this request makes, checked against the catalog at `now`.
    pub fn definition(&self, catalog: &Catalog, now: DateTime<Utc>) -> Result<PromoDefinition, PromoError> {
        let code = PromoCodeName::parse(&self.code)?;
        let discount = match (self.percent_off, self.amount_off_usd) {
            (Some(p), None) if p > Decimal::ZERO && p <= Decimal::ONE_HUNDRED => Discount::PercentOff(p.normalize()),
            (Some(_), None) => return Err(PromoError::InvalidPercent),
            (None, Some(usd)) => match exact_cents(usd) {
                Ok(cents) if cents > 0 => Discount::AmountOff(cents),
                _ => return Err(PromoError::InvalidAmount),
            },
            _ => return Err(PromoError::DiscountRequired),
        };
        let duration = self.duration.ok_or(PromoError::DurationRequired)?;
        match (duration, self.duration_in_months) {
            (PromoDuration::Repeating, Some(1..=MAX_REPEATING_MONTHS)) => {}
            (PromoDuration::Repeating, _) => return Err(PromoError::MonthsRequired),
            (_, Some(_)) => return Err(PromoError::MonthsNotAllowed),
            (_, None) => {}
        }
        if self.max_redemptions == Some(0) {
            return Err(PromoError::InvalidMaxRedemptions);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(PromoError::ExpiryInPast);
        }
        let mut applies_to = self.applies_to.clone().unwrap_or_default();
        applies_to.sort();
        applies_to.dedup();
        for id in &applies_to {
            let known =
                id == LIFETIME || catalog.tier(id).is_some_and(|t| t.is_subscribable()) || catalog.pack(id).is_some();
            if !known {
                return Err(PromoError::UnknownTarget(id.clone()));
            }
        }
        Ok(PromoDefinition {
            code,
            discount,
            duration,
            duration_in_months: self.duration_in_months,
            max_redemptions: self.max_redemptions,
            expires_at: self.expires_at,
            applies_to,
        })
    }
}

/// Why a checkout may not redeem a code; each has its own API code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("No promo code {0} exists.")]
    Unknown(String),
    #[error("Promo code {0} is no longer active.")]
    Inactive(String),
    #[error("Promo code {0} has expired.")]
    Expired(String),
    #[error("Promo code {0} has been redeemed as many times as it may be.")]
    Exhausted(String),
    #[error(
        "This organization has already redeemed promo code {0}, or holds it in a checkout still open \
         (released when that checkout expires)."
    )]
    AlreadyUsed(String),
    #[error("Promo code {code} does not apply to {target}.")]
    Inapplicable { code: String, target: String },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown(_) => "promo_code_invalid",
            Self::Inactive(_) => "promo_code_inactive",
            Self::Expired(_) => "promo_code_expired",
            Self::Exhausted(_) => "promo_code_exhausted",
            Self::AlreadyUsed(_) => "promo_code_already_used",
            Self::Inapplicable { .. } => "promo_code_inapplicable",
        }
    }
}

/// A code's standing when a checkout asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub active: bool,
    /// Redemptions counted or held by open checkouts.
    pub taken: u32,
    /// Whether this organization already redeemed it or holds it.
    pub used_by_organization: bool,
}

impl PromoDefinition {
    /// Whether a checkout selling `target` may redeem this code now. The order is the one a
    /// customer can act on: a code that does not fit says so before it says it ran out.
    pub fn check(&self, standing: Standing, target: PromoTarget<'_>, now: DateTime<Utc>) -> Result<(), Refusal> {
        let code = self.code.to_string();
        if !standing.active {
            return Err(Refusal::Inactive(code));
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Refusal::Expired(code));
        }
        if !self.applies_to.is_empty() && !self.applies_to.iter().any(|id| id == target.id()) {
            return Err(Refusal::Inapplicable { code, target: target.id().to_owned() });
        }
        if standing.used_by_organization {
            return Err(Refusal::AlreadyUsed(code));
        }
        if self.max_redemptions.is_some_and(|max| standing.taken >= max) {
            return Err(Refusal::Exhausted(code));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 10, 12, 0, 0).unwrap()
    }

    fn request() -> PromoRequest {
        PromoRequest {
            code: "newyear".into(),
            percent_off: Some(dec!(20)),
            duration: Some(PromoDuration::Once),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_request_is_normalized() {
        let mut req = request();
        req.applies_to = Some(vec!["pro".into(), "10".into(), "lifetime".into(), "pro".into()]);
        let def = req.definition(&Catalog::builtin(), now()).unwrap();
        assert_eq!(def.code.as_str(), "NEWYEAR");
        assert_eq!(def.discount, Discount::PercentOff(dec!(20)));
        assert_eq!(def.applies_to, vec!["10", "lifetime", "pro"]);
    }

    #[test]
    fn every_mistake_in_a_definition_is_named() {
        type Mutation = fn(&mut PromoRequest);
        let cases: [(Mutation, PromoError); 11] = [
            (|r| r.code = "a b".into(), PromoError::InvalidCode),
            (|r| r.code = "ab".into(), PromoError::InvalidCode),
            (|r| r.amount_off_usd = Some(dec!(5)), PromoError::DiscountRequired),
            (|r| r.percent_off = None, PromoError::DiscountRequired),
            (|r| r.percent_off = Some(dec!(101)), PromoError::InvalidPercent),
            (
                |r| {
                    r.percent_off = None;
                    r.amount_off_usd = Some(dec!(0.001));
                },
                PromoError::InvalidAmount,
            ),
            (|r| r.duration = Some(PromoDuration::Repeating), PromoError::MonthsRequired),
            (|r| r.duration_in_months = Some(3), PromoError::MonthsNotAllowed),
            (|r| r.max_redemptions = Some(0), PromoError::InvalidMaxRedemptions),
            (|r| r.expires_at = Some(now()), PromoError::ExpiryInPast),
            (|r| r.applies_to = Some(vec!["enterprise".into()]), PromoError::UnknownTarget("enterprise".into())),
        ];
        for (mutate, expected) in cases {
            let mut req = request();
            mutate(&mut req);
            assert_eq!(req.definition(&Catalog::builtin(), now()), Err(expected));
        }
    }

    #[test]
    fn each_refusal_has_its_own_code() {
        let mut req = request();
        req.max_redemptions = Some(2);
        req.expires_at = Some(now() + chrono::Duration::days(1));
        req.applies_to = Some(vec!["pro".into()]);
        let def = req.definition(&Catalog::builtin(), now()).unwrap();
        let fresh = Standing { active: true, taken: 1, used_by_organization: false };
        let pro = PromoTarget::Tier("pro");
        assert_eq!(def.check(fresh, pro, now()), Ok(()));
        let code = |r: Result<(), Refusal>| r.unwrap_err().code();
        assert_eq!(code(def.check(Standing { active: false, ..fresh }, pro, now())), "promo_code_inactive");
        assert_eq!(code(def.check(fresh, pro, now() + chrono::Duration::days(2))), "promo_code_expired");
        assert_eq!(code(def.check(fresh, PromoTarget::Lifetime, now())), "promo_code_inapplicable");
        assert_eq!(code(def.check(Standing { taken: 2, ..fresh }, pro, now())), "promo_code_exhausted");
        let used = Standing { used_by_organization: true, ..fresh };
        assert_eq!(code(def.check(used, pro, now())), "promo_code_already_used");
    }
}
