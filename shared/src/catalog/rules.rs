//! The plan catalog: tiers, their limits and prices, run prices, workflow packs.
//!
//! The catalog is data (`catalog/plans.json`, compiled in), and a deployment may replace it
//! through configuration. Loading always validates, so a bad override fails at start-up with a
//! message that names the offending entry, never at the first customer request.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::is_safe_id;

const BUILTIN_CATALOG: &str = include_str!("../../catalog/plans.json");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("plan catalog is not valid JSON for the expected shape: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("plan catalog: {what} must not be negative (got {value})")]
    NegativePrice { what: String, value: Decimal },
    #[error("plan catalog: {what} must be greater than zero")]
    NotPositive { what: String },
    #[error("plan catalog: tier id {0:?} is listed more than once")]
    DuplicateTier(String),
    #[error("plan catalog: tier id {0:?} must be letters, digits, '-' or '_'")]
    InvalidTierId(String),
    #[error("plan catalog: free_tier {0:?} is not one of the tiers")]
    UnknownFreeTier(String),
    #[error("plan catalog: the free tier {0:?} must have billing \"free\" and price 0")]
    FreeTierNotFree(String),
    #[error("plan catalog: tier {tier:?} with billing {billing:?} needs a price_usd")]
    MissingPrice { tier: String, billing: TierBilling },
    #[error("plan catalog: the free tier must have a finite monthly workflow quota")]
    UnlimitedFreeTier,
    #[error("plan catalog: workflow pack id {0:?} is listed more than once")]
    DuplicatePack(String),
    #[error(
        "plan catalog: the launch offer of tier {0:?} needs a monthly tier, an id, a window that ends after it starts, and phases of at least one month each at a price above zero"
    )]
    InvalidLaunchOffer(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TierId(String);

impl TierId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a tier is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierBilling {
    Free,
    Monthly,
    OneTime,
    /// Negotiated per customer (enterprise); not sold through checkout.
    Custom,
}

/// A per-tier limit; `null` in JSON means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Limit(Option<u32>);

impl Limit {
    pub const UNLIMITED: Limit = Limit(None);

    pub fn of(n: u32) -> Self {
        Self(Some(n))
    }
    pub fn is_unlimited(self) -> bool {
        self.0.is_none()
    }
    /// The finite value, or `None` when unlimited.
    pub fn finite(self) -> Option<u32> {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub id: TierId,
    pub name: String,
    pub billing: TierBilling,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub price_usd: Option<Decimal>,
    pub workflows_per_month: Limit,
    pub concurrent_agents: Limit,
    pub storage_gb: Limit,
    pub byo_keys: bool,
    /// Invoiced the month's LLM cost on the platform's keys (with the margin) at each close.
    #[serde(default)]
    pub pays_for_llm_tokens: bool,
    /// Free trial days of a new subscription (one trial per organization, ever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<u32>,
    /// Introductory prices for subscriptions bought within a window (a launch deal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_offer: Option<LaunchOffer>,
}

/// A launch deal: a subscription bought in `[starts_at, ends_at)` pays each phase's price for
/// its months, then the tier's own price. The first phase is what Checkout charges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaunchOffer {
    pub id: String,
    pub name: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub phases: Vec<IntroPhase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntroPhase {
    #[serde(with = "rust_decimal::serde::float")]
    pub price_usd: Decimal,
    pub months: u32,
}

impl LaunchOffer {
    /// Whether a subscription bought at `at` gets the offer.
    pub fn open_at(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

impl Tier {
    /// Sold as a recurring Stripe subscription through checkout.
    pub fn is_subscribable(&self) -> bool {
        self.billing == TierBilling::Monthly
    }

    /// The launch offer a subscription bought at `at` gets, if any.
    pub fn launch_offer_at(&self, at: chrono::DateTime<chrono::Utc>) -> Option<&LaunchOffer> {
        self.launch_offer.as_ref().filter(|offer| offer.open_at(at))
    }
    pub fn is_lifetime(&self) -> bool {
        self.billing == TierBilling::OneTime
    }
}

/// Price of one workflow run by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPrices {
    #[serde(with = "rust_decimal::serde::float")]
    pub standard: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub complex: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowPack {
    pub id: String,
    pub workflows: u32,
    #[serde(with = "rust_decimal::serde::float")]
    pub price_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditPurchaseRules {
    /// Largest single credit purchase; the smallest is anything above zero.
    #[serde(with = "rust_decimal::serde::float")]
    pub max_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub currency: String,
    pub free_tier: TierId,
    pub tiers: Vec<Tier>,
    /// What a run costs when paid from prepaid credits.
    pub run_prices: RunPrices,
    /// What a run costs beyond the subscription quota, billed on the next invoice.
    pub overage_prices: RunPrices,
    pub workflow_packs: Vec<WorkflowPack>,
    pub credit_purchase: CreditPurchaseRules,
    /// Storage above a plan's limit, per started GB, billed when a month closes.
    #[serde(with = "rust_decimal::serde::float")]
    pub storage_usd_per_gb_month: Decimal,
    /// LLM providers whose keys customers on a `byo_keys` tier may bring.
    #[serde(default)]
    pub byo_providers: Vec<ByoProvider>,
}

/// An LLM provider a customer may bring a key for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ByoProvider {
    pub id: String,
    pub name: String,
}

impl Catalog {
    pub fn byo_provider(&self, id: &str) -> Option<&ByoProvider> {
        self.byo_providers.iter().find(|p| p.id == id)
    }

    /// The catalog shipped with the code.
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_CATALOG).expect("the built-in plan catalog is valid (tested)")
    }

    pub fn from_json(json: &str) -> Result<Self, CatalogError> {
        let catalog: Catalog = serde_json::from_str(json)?;
        catalog.validate()?;
        Ok(catalog)
    }

    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id.as_str() == id)
    }

    pub fn free_tier(&self) -> &Tier {
        self.tier(self.free_tier.as_str()).expect("validated: free_tier names a tier")
    }

    /// Workflows every account gets free each calendar month.
    pub fn free_workflows_per_month(&self) -> u32 {
        self.free_tier().workflows_per_month.finite().expect("validated: the free tier is finite")
    }

    pub fn pack(&self, id: &str) -> Option<&WorkflowPack> {
        self.workflow_packs.iter().find(|p| p.id == id)
    }

    fn validate(&self) -> Result<(), CatalogError> {
        let mut seen = std::collections::HashSet::new();
        for tier in &self.tiers {
            let id = tier.id.as_str();
            if !is_safe_id(id) {
                return Err(CatalogError::InvalidTierId(id.to_owned()));
            }
            if !seen.insert(id) {
                return Err(CatalogError::DuplicateTier(id.to_owned()));
            }
            if let Some(offer) = &tier.launch_offer {
                let valid = tier.is_subscribable()
                    && is_safe_id(&offer.id)
                    && offer.starts_at < offer.ends_at
                    && !offer.phases.is_empty()
                    && offer
                        .phases
                        .iter()
                        .all(|p| p.months > 0 && p.price_usd > Decimal::ZERO && p.price_usd.scale() <= 2);
                if !valid {
                    return Err(CatalogError::InvalidLaunchOffer(id.to_owned()));
                }
            }
            match (tier.billing, tier.price_usd) {
                (_, Some(price)) => non_negative(&format!("price_usd of tier {id:?}"), price)?,
                (TierBilling::Custom, None) => {}
                (billing, None) => {
                    return Err(CatalogError::MissingPrice { tier: id.to_owned(), billing });
                }
            }
        }
        let free = self
            .tier(self.free_tier.as_str())
            .ok_or_else(|| CatalogError::UnknownFreeTier(self.free_tier.to_string()))?;
        if free.billing != TierBilling::Free || free.price_usd != Some(Decimal::ZERO) {
            return Err(CatalogError::FreeTierNotFree(free.id.to_string()));
        }
        if free.workflows_per_month.is_unlimited() {
            return Err(CatalogError::UnlimitedFreeTier);
        }
        for (what, prices) in [("run_prices", &self.run_prices), ("overage_prices", &self.overage_prices)] {
            positive(&format!("{what}.standard"), prices.standard)?;
            positive(&format!("{what}.complex"), prices.complex)?;
        }
        let mut packs = std::collections::HashSet::new();
        for pack in &self.workflow_packs {
            if !packs.insert(pack.id.as_str()) {
                return Err(CatalogError::DuplicatePack(pack.id.clone()));
            }
            positive(&format!("price_usd of workflow pack {:?}", pack.id), pack.price_usd)?;
            if pack.workflows == 0 {
                return Err(CatalogError::NotPositive { what: format!("workflows of pack {:?}", pack.id) });
            }
        }
        non_negative("storage_usd_per_gb_month", self.storage_usd_per_gb_month)?;
        positive("credit_purchase.max_usd", self.credit_purchase.max_usd)
    }
}

fn non_negative(what: &str, value: Decimal) -> Result<(), CatalogError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(CatalogError::NegativePrice { what: what.to_owned(), value });
    }
    Ok(())
}

fn positive(what: &str, value: Decimal) -> Result<(), CatalogError> {
    non_negative(what, value)?;
    if value.is_zero() {
        return Err(CatalogError::NotPositive { what: what.to_owned() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn builtin_json() -> serde_json::Value {
        serde_json::from_str(BUILTIN_CATALOG).unwrap()
    }

    fn load(value: serde_json::Value) -> Result<Catalog, CatalogError> {
        Catalog::from_json(&value.to_string())
    }

    #[test]
    fn the_builtin_catalog_matches_the_published_tier_table() {
        let catalog = Catalog::builtin();
        let row = |id: &str| {
            let t = catalog.tier(id).unwrap();
            (t.price_usd, t.workflows_per_month.finite(), t.concurrent_agents.finite(), t.storage_gb.finite())
        };
        assert_eq!(row("free"), (Some(dec!(0)), Some(5), Some(1), Some(2)));
        assert_eq!(row("starter"), (Some(dec!(29)), Some(20), Some(2), Some(10)));
        assert_eq!(row("pro"), (Some(dec!(79)), Some(100), Some(5), Some(50)));
        assert_eq!(row("team"), (Some(dec!(199)), Some(500), Some(15), Some(200)));
        assert_eq!(row("enterprise"), (None, None, None, None));
        assert_eq!(row("lifetime"), (Some(dec!(499)), Some(50), Some(5), Some(100)));
        assert_eq!(row("byo"), (Some(dec!(19)), None, None, Some(50)));
        assert_eq!(catalog.free_workflows_per_month(), 5);
        assert_eq!(catalog.run_prices, RunPrices { standard: dec!(10), complex: dec!(15) });
        assert_eq!(catalog.pack("10").map(|p| (p.workflows, p.price_usd)), Some((10, dec!(100))));
        assert_eq!(catalog.pack("50").map(|p| (p.workflows, p.price_usd)), Some((50, dec!(400))));
        assert!(catalog.tier("pro").unwrap().is_subscribable());
        assert!(catalog.tier("lifetime").unwrap().is_lifetime());
        assert!(!catalog.tier("enterprise").unwrap().is_subscribable());
        let offer = catalog.tier("pro").unwrap().launch_offer.clone().unwrap();
        let phases: Vec<_> = offer.phases.iter().map(|p| (p.price_usd, p.months)).collect();
        assert_eq!(phases, vec![(dec!(0.59), 1), (dec!(12.99), 2)], "the seed's New Year deal");
    }

    #[test]
    fn a_negative_tier_price_is_refused_with_the_tier_named() {
        let mut json = builtin_json();
        json["tiers"][2]["price_usd"] = serde_json::json!(-79);
        let err = load(json).unwrap_err();
        assert!(matches!(err, CatalogError::NegativePrice { .. }), "{err:?}");
        assert_eq!(err.to_string(), "plan catalog: price_usd of tier \"pro\" must not be negative (got -79)");
    }

    #[test]
    fn structural_mistakes_are_refused() {
        type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("duplicate tier", Box::new(|j| j["tiers"][1]["id"] = "free".into())),
            ("unknown free tier", Box::new(|j| j["free_tier"] = "gratis".into())),
            ("paid free tier", Box::new(|j| j["tiers"][0]["price_usd"] = 5.into())),
            ("monthly tier without price", Box::new(|j| j["tiers"][1]["price_usd"] = serde_json::Value::Null)),
            ("zero run price", Box::new(|j| j["run_prices"]["complex"] = 0.into())),
            ("empty pack", Box::new(|j| j["workflow_packs"][0]["workflows"] = 0.into())),
            ("unknown field", Box::new(|j| j["tiers"][0]["discount"] = 1.into())),
            ("string limit", Box::new(|j| j["tiers"][0]["workflows_per_month"] = "five".into())),
            ("negative max purchase", Box::new(|j| j["credit_purchase"]["max_usd"] = (-1).into())),
            (
                "launch offer on a free tier",
                Box::new(|j| j["tiers"][0]["launch_offer"] = j["tiers"][2]["launch_offer"].clone()),
            ),
            (
                "launch phase of no months",
                Box::new(|j| j["tiers"][2]["launch_offer"]["phases"][0]["months"] = 0.into()),
            ),
            (
                "launch window backwards",
                Box::new(|j| j["tiers"][2]["launch_offer"]["ends_at"] = "2020-01-01T00:00:00Z".into()),
            ),
        ];
        for (name, mutate) in cases {
            let mut json = builtin_json();
            mutate(&mut json);
            assert!(load(json).is_err(), "{name} should be refused");
        }
    }

    #[test]
    fn the_catalog_serializes_prices_as_json_numbers_and_unlimited_as_null() {
        let json = serde_json::to_value(Catalog::builtin()).unwrap();
        assert_eq!(json["tiers"][1]["price_usd"], serde_json::json!(29.0));
        assert_eq!(json["tiers"][4]["workflows_per_month"], serde_json::Value::Null);
        assert_eq!(Catalog::from_json(&json.to_string()).unwrap(), Catalog::builtin());
    }
}
