//! Limits in force for an account: its tier's, unless an operator overrode one (each override
//! optional, each with an optional expiry). Overrides live on the account item, so reserve
//! reads them with the account and its conditional write enforces the limit it decided with.
//!
//! Overrides are finite numbers on limits the tier already has: a tier without a concurrency
//! limit or a monthly quota keeps its holds and counts elsewhere (run items, no period count),
//! so a limit could not be enforced there; the route refuses such an override.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::rules::Tier;

/// One overridden limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitOverride {
    pub value: u32,
    /// After this instant the tier's limit applies again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl LimitOverride {
    fn at(self, now: DateTime<Utc>) -> Option<u32> {
        self.expires_at.is_none_or(|end| now < end).then_some(self.value)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflows_per_month: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_agents: Option<LimitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_gb: Option<LimitOverride>,
}

impl LimitOverrides {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The limits in force; `None` = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LimitsInForce {
    pub workflows_per_month: Option<u32>,
    pub concurrent_agents: Option<u32>,
    pub storage_gb: Option<u32>,
}

pub fn in_force(tier: &Tier, overrides: &LimitOverrides, now: DateTime<Utc>) -> LimitsInForce {
    // Unlimited on the tier stays unlimited (see the module note).
    let pick =
        |own: Option<u32>, over: Option<LimitOverride>| own.map(|own| over.and_then(|o| o.at(now)).unwrap_or(own));
    LimitsInForce {
        workflows_per_month: pick(tier.workflows_per_month.finite(), overrides.workflows_per_month),
        concurrent_agents: pick(tier.concurrent_agents.finite(), overrides.concurrent_agents),
        storage_gb: pick(tier.storage_gb.finite(), overrides.storage_gb),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("The {tier} plan has no {limit} limit to override.")]
    Unlimited { tier: String, limit: &'static str },
    #[error("{0}: expires_at is already past.")]
    Expired(&'static str),
    #[error("The free plan's monthly workflows are the free quota every account has; grant credits instead.")]
    FreeQuota,
}

/// Refuses overrides the engine could not enforce, or that would never apply.
pub fn check(tier: &Tier, overrides: &LimitOverrides, now: DateTime<Utc>) -> Result<(), OverrideError> {
    let fields = [
        ("workflows_per_month", tier.workflows_per_month.finite(), overrides.workflows_per_month),
        ("concurrent_agents", tier.concurrent_agents.finite(), overrides.concurrent_agents),
        ("storage_gb", tier.storage_gb.finite(), overrides.storage_gb),
    ];
    if tier.billing == crate::catalog::rules::TierBilling::Free && overrides.workflows_per_month.is_some() {
        return Err(OverrideError::FreeQuota);
    }
    for (name, own, over) in fields {
        let Some(over) = over else { continue };
        if own.is_none() {
            return Err(OverrideError::Unlimited { tier: tier.id.to_string(), limit: name });
        }
        if over.expires_at.is_some_and(|end| end <= now) {
            return Err(OverrideError::Expired(name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::catalog::rules::Catalog;

    #[test]
    fn an_override_applies_until_it_expires_and_never_on_an_unlimited_limit() {
        let catalog = Catalog::builtin();
        let free = catalog.tier("free").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let more_runs = LimitOverrides {
            workflows_per_month: Some(LimitOverride { value: 9, expires_at: None }),
            ..Default::default()
        };
        assert_eq!(check(free, &more_runs, now), Err(OverrideError::FreeQuota));
        let overrides = LimitOverrides {
            concurrent_agents: Some(LimitOverride { value: 3, expires_at: Some(now + Duration::hours(1)) }),
            storage_gb: Some(LimitOverride { value: 20, expires_at: None }),
            ..Default::default()
        };
        assert_eq!(
            in_force(free, &overrides, now),
            LimitsInForce { workflows_per_month: Some(5), concurrent_agents: Some(3), storage_gb: Some(20) }
        );
        let later = now + Duration::hours(1);
        assert_eq!(in_force(free, &overrides, later).concurrent_agents, Some(1), "expired at its instant");
        assert_eq!(check(free, &overrides, now), Ok(()));
        assert_eq!(check(free, &overrides, later), Err(OverrideError::Expired("concurrent_agents")));

        let enterprise = catalog.tier("enterprise").unwrap();
        let capped = LimitOverrides {
            concurrent_agents: Some(LimitOverride { value: 3, expires_at: None }),
            ..Default::default()
        };
        assert!(matches!(check(enterprise, &capped, now), Err(OverrideError::Unlimited { .. })));
        assert_eq!(in_force(enterprise, &capped, now).concurrent_agents, None);
    }
}
