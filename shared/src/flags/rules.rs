//! Feature flags: a global default, per-tier overrides and per-organization overrides,
//! evaluated most specific first (organization, then tier, then the default).
//!
//! A flag exists once an operator defines it (its default); an organization's override of a
//! flag nobody defined is refused, so a typo cannot silently switch on nothing.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::rules::{Catalog, TierId};

/// Longest flag name.
pub const MAX_FLAG_CHARS: usize = 64;
/// Longest description kept.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A flag's name: lowercase ASCII letters, digits, `_`, `-` and `.`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FlagName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error(
        "A flag name is 1 to {MAX_FLAG_CHARS} characters: lowercase letters, digits, '_', '-' or '.', starting with a letter."
    )]
    InvalidName,
    #[error("The catalog has no tier `{0}`.")]
    UnknownTier(String),
    #[error("The description must be at most {MAX_DESCRIPTION_CHARS} characters.")]
    DescriptionTooLong,
}

impl FlagName {
    pub fn parse(raw: &str) -> Result<Self, FlagError> {
        let mut chars = raw.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
        if starts_with_letter && rest_ok && raw.len() <= MAX_FLAG_CHARS {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FlagError::InvalidName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FlagName {
    type Error = FlagError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<FlagName> for String {
    fn from(name: FlagName) -> Self {
        name.0
    }
}

impl fmt::Display for FlagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operator sets for a flag: its default and the tiers that differ from it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlagSetting {
    pub enabled: bool,
    #[serde(default)]
    pub tiers: BTreeMap<String, bool>,
    #[serde(default)]
    pub description: Option<String>,
}

impl FlagSetting {
    /// Refuses tiers the catalog does not sell and overlong descriptions.
    pub fn check(&self, catalog: &Catalog) -> Result<(), FlagError> {
        if let Some(tier) = self.tiers.keys().find(|tier| catalog.tier(tier).is_none()) {
            return Err(FlagError::UnknownTier(tier.clone()));
        }
        if self.description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(FlagError::DescriptionTooLong);
        }
        Ok(())
    }
}

/// A defined flag (`FLAGS` / `FLAG#<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub name: FlagName,
    #[serde(flatten)]
    pub setting: FlagSetting,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    /// Bumped by every change; a change applies only to the version it read.
    pub version: u64,
}

/// The partition holding every flag's definition (a handful of small items, read together).
pub const FLAGS_PARTITION: &str = "FLAGS";
pub const FLAG_PREFIX: &str = "FLAG#";

impl Flag {
    pub fn new(name: FlagName, setting: FlagSetting, by: &str, at: DateTime<Utc>, version: u64) -> Self {
        Self {
            pk: FLAGS_PARTITION.to_owned(),
            sk: format!("{FLAG_PREFIX}{name}"),
            name,
            setting,
            updated_at: at,
            updated_by: by.to_owned(),
            version,
        }
    }
}

/// Where an evaluated flag's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagSource {
    Organization,
    Tier,
    Global,
}

/// One flag's value for one organization, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluated {
    pub enabled: bool,
    pub source: FlagSource,
}

/// The organization's override wins, then its tier's, then the flag's default.
pub fn evaluate(flag: &Flag, tier: &TierId, organization: &BTreeMap<String, bool>) -> Evaluated {
    if let Some(&enabled) = organization.get(flag.name.as_str()) {
        return Evaluated { enabled, source: FlagSource::Organization };
    }
    if let Some(&enabled) = flag.setting.tiers.get(tier.as_str()) {
        return Evaluated { enabled, source: FlagSource::Tier };
    }
    Evaluated { enabled: flag.setting.enabled, source: FlagSource::Global }
}

/// Every defined flag evaluated for one organization. Overrides of flags no longer defined
/// are ignored.
pub fn evaluate_all(
    flags: &[Flag],
    tier: &TierId,
    organization: &BTreeMap<String, bool>,
) -> BTreeMap<String, Evaluated> {
    flags.iter().map(|flag| (flag.name.to_string(), evaluate(flag, tier, organization))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 9, 0, 0).unwrap()
    }

    fn flag(enabled: bool, tiers: &[(&str, bool)]) -> Flag {
        let setting = FlagSetting {
            enabled,
            tiers: tiers.iter().map(|(t, on)| ((*t).to_owned(), *on)).collect(),
            description: None,
        };
        Flag::new(FlagName::parse("new-editor").unwrap(), setting, "ops", at(), 1)
    }

    #[test]
    fn the_organization_wins_over_the_tier_which_wins_over_the_default() {
        let pro = TierId::new("pro");
        let free = TierId::new("free");
        let f = flag(false, &[("pro", true)]);
        let none = BTreeMap::new();
        let off = BTreeMap::from([("new-editor".to_owned(), false)]);
        let on = BTreeMap::from([("new-editor".to_owned(), true)]);
        assert_eq!(evaluate(&f, &free, &none), Evaluated { enabled: false, source: FlagSource::Global });
        assert_eq!(evaluate(&f, &pro, &none), Evaluated { enabled: true, source: FlagSource::Tier });
        assert_eq!(evaluate(&f, &pro, &off), Evaluated { enabled: false, source: FlagSource::Organization });
        assert_eq!(evaluate(&f, &free, &on), Evaluated { enabled: true, source: FlagSource::Organization });
    }

    #[test]
    fn overrides_of_undefined_flags_are_ignored() {
        let stale = BTreeMap::from([("gone".to_owned(), true)]);
        let all = evaluate_all(&[flag(true, &[])], &TierId::new("free"), &stale);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["new-editor"]);
    }

    #[test]
    fn names_are_short_lowercase_and_start_with_a_letter() {
        for good in ["a", "new-editor", "beta.tools_v2", &"x".repeat(MAX_FLAG_CHARS)] {
            assert!(FlagName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "New", "1st", "-x", "a b", "a/b", "é", &"x".repeat(MAX_FLAG_CHARS + 1)] {
            assert_eq!(FlagName::parse(bad), Err(FlagError::InvalidName), "{bad}");
        }
    }

    #[test]
    fn a_setting_names_only_tiers_the_catalog_sells() {
        let catalog = Catalog::builtin();
        let good = FlagSetting { enabled: true, tiers: BTreeMap::from([("pro".into(), false)]), description: None };
        assert_eq!(good.check(&catalog), Ok(()));
        let bad = FlagSetting { tiers: BTreeMap::from([("platinum".into(), true)]), ..good.clone() };
        assert_eq!(bad.check(&catalog), Err(FlagError::UnknownTier("platinum".into())));
        let long = FlagSetting { description: Some("d".repeat(MAX_DESCRIPTION_CHARS + 1)), ..good };
        assert_eq!(long.check(&catalog), Err(FlagError::DescriptionTooLong));
    }
}
