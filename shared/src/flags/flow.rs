//! Feature flags: operators define a flag's default and tier values and override it per
//! organization (each change audited, refused without a reason); members read their
//! organization's flags evaluated.

use std::collections::BTreeMap;

use crate::App;
use crate::flags::rules::{self as flags, Evaluated, Flag, FlagError, FlagName, FlagSetting};
use crate::operators::flow::Operator;
use crate::operators::rules::audit::{AuditEntry, ReasonError, checked_reason};
use crate::store::StoreError;
use crate::{catalog::rules::TierId, ids::OrganizationId};

/// Attempts at a change whose version keeps moving (operators racing on one organization).
const ATTEMPTS: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    #[error(transparent)]
    Reason(#[from] ReasonError),
    #[error(transparent)]
    Invalid(#[from] FlagError),
    #[error("No flag `{0}` is defined; define it with PUT /api/billing/admin/flags/{0} first.")]
    Undefined(FlagName),
    #[error("The flag kept changing; retry.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Defines the flag or replaces its default, tier values and description.
pub async fn define(
    app: &App,
    name: &FlagName,
    setting: FlagSetting,
    operator: Operator<'_>,
    reason: Option<&str>,
) -> Result<Flag, FlagsError> {
    let reason = checked_reason(reason)?;
    setting.check(app.catalog())?;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            crate::store::jittered_pause(attempt).await;
        }
        let read = app.store.get_flag(name).await?;
        let read_version = read.as_ref().map_or(0, |f| f.version);
        let now = app.now();
        let flag = Flag::new(name.clone(), setting.clone(), operator.subject, now, read_version + 1);
        let before = read.as_ref().map(|f| serde_json::to_value(&f.setting).unwrap_or_default());
        let after = serde_json::to_value(&flag.setting).unwrap_or_default();
        let action = if read.is_some() { "flag_changed" } else { "flag_defined" };
        let entry =
            AuditEntry::for_flag(name, operator.subject, action, &reason, (before.unwrap_or_default(), after), now);
        if app.store.put_flag(&flag, read_version, &entry).await? {
            tracing::info!(flag = %name, operator = operator.subject, "flag set by an operator");
            return Ok(flag);
        }
    }
    Err(FlagsError::Busy)
}

/// Every defined flag, in name order.
pub async fn list(app: &App) -> Result<Vec<Flag>, FlagsError> {
    let mut defined = app.store.list_flags().await?;
    defined.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    Ok(defined)
}

pub async fn get(app: &App, name: &FlagName) -> Result<Flag, FlagsError> {
    app.store.get_flag(name).await?.ok_or_else(|| FlagsError::Undefined(name.clone()))
}

/// An organization's override after a change, and the flag's value for it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFlag {
    /// `None`: no override, the tier's or global value applies.
    pub overridden: Option<bool>,
    pub evaluated: Evaluated,
}

/// Sets (`Some`) or removes (`None`) the organization's override of a defined flag.
pub async fn set_for_organization(
    app: &App,
    org: &OrganizationId,
    name: &FlagName,
    enabled: Option<bool>,
    operator: Operator<'_>,
    reason: Option<&str>,
) -> Result<OrganizationFlag, FlagsError> {
    let reason = checked_reason(reason)?;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            crate::store::jittered_pause(attempt).await;
        }
        let flag = get(app, name).await?;
        let read = app.store.organization_flags(org).await?;
        let mut flags = read.flags.clone();
        match enabled {
            Some(on) => flags.insert(name.to_string(), on),
            None => flags.remove(name.as_str()),
        };
        let now = app.now();
        let before = serde_json::json!({ "enabled": read.flags.get(name.as_str()) });
        let after = serde_json::json!({ "enabled": enabled });
        let entry =
            AuditEntry::new(org, operator.subject, "flag_overridden", &reason, (before, after), now).with_flag(name);
        if app.store.put_organization_flags(org, &flags, read.version, name, &entry).await? {
            tracing::info!(org = %org, flag = %name, operator = operator.subject, "flag overridden for an organization");
            let tier = tier_of(app, org).await?;
            return Ok(OrganizationFlag { overridden: enabled, evaluated: flags::evaluate(&flag, &tier, &flags) });
        }
    }
    Err(FlagsError::Busy)
}

/// The organization's tier and every defined flag evaluated for it.
pub async fn features(app: &App, org: &OrganizationId) -> Result<(TierId, BTreeMap<String, Evaluated>), FlagsError> {
    let (defined, overrides, tier) =
        tokio::try_join!(app.store.list_flags(), app.store.organization_flags(org), tier_of(app, org))?;
    let evaluated = flags::evaluate_all(&defined, &tier, &overrides.flags);
    Ok((tier, evaluated))
}

/// An organization without a billing account yet is on the free tier.
async fn tier_of(app: &App, org: &OrganizationId) -> Result<TierId, StoreError> {
    let account = app.store.get_account(org).await?;
    Ok(account.map_or_else(|| app.catalog().free_tier.clone(), |a| a.tier))
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::flags::flow::FlagsError> for crate::error::ApiError {
    fn from(err: crate::flags::flow::FlagsError) -> Self {
        use crate::flags::flow::FlagsError as E;
        use crate::flags::rules::FlagError;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::Invalid(FlagError::InvalidName) => Self::bad_request("invalid_flag", err.to_string()),
            E::Invalid(FlagError::UnknownTier(_)) => Self::bad_request("unknown_tier", err.to_string()),
            E::Invalid(FlagError::DescriptionTooLong) => Self::bad_request("invalid_description", err.to_string()),
            E::Undefined(_) => Self::not_found("flag_not_found", err.to_string()),
            E::Busy => Self::TooManyRequests { code: "flag_busy", detail: err.to_string(), retry_after_secs: 1 },
        }
    }
}
