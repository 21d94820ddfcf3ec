//! Shapes of the feature-flag routes: operators' (`/admin/flags/...`,
//! `/admin/accounts/{org}/flags/...`) and members' (`/account/{org}/features`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::flags::rules::{Evaluated, Flag, FlagSetting, FlagSource};

/// `PUT admin/flags/{flag}`: the default, the tiers that differ from it, and why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    pub enabled: bool,
    /// Tier id → value, for tiers that differ from the default.
    #[serde(default)]
    pub tiers: BTreeMap<String, bool>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

impl FlagRequest {
    pub fn setting(&self) -> FlagSetting {
        FlagSetting { enabled: self.enabled, tiers: self.tiers.clone(), description: self.description.clone() }
    }
}

/// A defined flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagResponse {
    pub flag: String,
    /// The global default.
    pub enabled: bool,
    pub tiers: BTreeMap<String, bool>,
    pub description: Option<String>,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl From<&Flag> for FlagResponse {
    fn from(flag: &Flag) -> Self {
        Self {
            flag: flag.name.to_string(),
            enabled: flag.setting.enabled,
            tiers: flag.setting.tiers.clone(),
            description: flag.setting.description.clone(),
            version: flag.version,
            updated_at: flag.updated_at,
            updated_by: flag.updated_by.clone(),
        }
    }
}

/// `GET admin/flags`: every defined flag, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagListResponse {
    pub flags: Vec<FlagResponse>,
}

/// `PUT admin/accounts/{org}/flags/{flag}`: `enabled` true or false overrides the flag for
/// the organization; `null` (or absent) removes the override.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationFlagRequest {
    pub enabled: Option<bool>,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// The organization's override and the value it gets now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrganizationFlagResponse {
    pub organization_id: String,
    pub flag: String,
    /// The override; `null` when none.
    pub override_enabled: Option<bool>,
    /// The value in force for the organization.
    pub enabled: bool,
    /// Which level decided it.
    pub source: FlagSource,
}

impl OrganizationFlagResponse {
    pub fn new(org: &str, flag: &str, override_enabled: Option<bool>, evaluated: Evaluated) -> Self {
        Self {
            organization_id: org.to_owned(),
            flag: flag.to_owned(),
            override_enabled,
            enabled: evaluated.enabled,
            source: evaluated.source,
        }
    }
}

/// `GET account/{org}/features`: every defined flag's value for the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeaturesResponse {
    pub organization_id: String,
    pub tier: String,
    /// Flag name → on or off.
    pub features: BTreeMap<String, bool>,
}
