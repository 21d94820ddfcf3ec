//! The audit trail of operators' actions: who (the token's subject), when, what, why, and
//! the state before and after. Entries are written in the same transaction as the change
//! they describe, so an action without its entry cannot happen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::flags::rules::FlagName;
use crate::ids::OrganizationId;

/// Longest reason kept; longer ones are refused, not cut.
pub const MAX_REASON_CHARS: usize = 500;

/// `ORG#<org>` / `AUDIT#<at>#<id>`: newest last in the organization's partition; or, for a
/// change no organization owns (a flag's default or tier values), `FLAG#<name>` / `AUDIT#…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
    /// The flag changed, for flag changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<FlagName>,
    /// The queue acted on (a redrive's entry, [`QueueAuditEntry`], read as an entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The operator: the subject of their token.
    pub actor: String,
    /// What was done, e.g. `account_suspended`.
    pub action: String,
    pub reason: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub at: DateTime<Utc>,
}

pub const AUDIT_PREFIX: &str = "AUDIT#";

/// The partition of a flag's own trail (its default and tier changes).
pub fn flag_partition(flag: &FlagName) -> String {
    format!("FLAG#{flag}")
}

/// The partition of a queue's trail (redrives), by the queue's logical id.
pub fn queue_partition(queue: &str) -> String {
    format!("QUEUE#{queue}")
}

/// `AUDIT#<at>#<id>`: the sort key of an entry, in time order.
fn audit_sort_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{AUDIT_PREFIX}{}#{id}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

/// An operator's action on a queue rather than an account (a redrive): `QUEUE#<logical id>` /
/// `AUDIT#<at>#<id>`, in the queue's own partition, since no organization owns it. Written
/// before the action with `after` empty, and completed with the outcome after it, so an action
/// without its entry cannot happen; an entry whose `after` stayed empty did not finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueAuditEntry {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    /// The queue's logical id, e.g. `UsageDeadLetterQueue`.
    pub queue: String,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl QueueAuditEntry {
    pub fn new(
        queue: &str,
        actor: &str,
        action: &str,
        reason: &str,
        before: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string();
        Self {
            pk: queue_partition(queue),
            sk: audit_sort_key(at, &id),
            id,
            queue: queue.to_owned(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            reason: reason.to_owned(),
            before,
            after: serde_json::Value::Null,
            at,
        }
    }
}

/// Who did what and why, with the state before and after: the part every entry shares.
struct Action<'a> {
    actor: &'a str,
    action: &'a str,
    reason: &'a str,
    before: serde_json::Value,
    after: serde_json::Value,
}

impl AuditEntry {
    fn in_partition(
        pk: String,
        organization_id: Option<OrganizationId>,
        flag: Option<FlagName>,
        what: Action<'_>,
        at: DateTime<Utc>,
    ) -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string();
        Self {
            pk,
            sk: audit_sort_key(at, &id),
            id,
            organization_id,
            flag,
            queue: None,
            actor: what.actor.to_owned(),
            action: what.action.to_owned(),
            reason: what.reason.to_owned(),
            before: what.before,
            after: what.after,
            at,
        }
    }

    pub fn new(
        org: &OrganizationId,
        actor: &str,
        action: &str,
        reason: &str,
        (before, after): (serde_json::Value, serde_json::Value),
        at: DateTime<Utc>,
    ) -> Self {
        let what = Action { actor, action, reason, before, after };
        Self::in_partition(format!("ORG#{org}"), Some(org.clone()), None, what, at)
    }

    /// An organization's change that concerns a flag (its override).
    pub fn with_flag(self, flag: &FlagName) -> Self {
        Self { flag: Some(flag.clone()), ..self }
    }

    /// A change of a flag's default or tier values, in the flag's own partition.
    pub fn for_flag(
        flag: &FlagName,
        actor: &str,
        action: &str,
        reason: &str,
        (before, after): (serde_json::Value, serde_json::Value),
        at: DateTime<Utc>,
    ) -> Self {
        let what = Action { actor, action, reason, before, after };
        Self::in_partition(flag_partition(flag), None, Some(flag.clone()), what, at)
    }

    /// A promotion code's creation or deactivation, in the code's own partition
    /// (`PROMO#<code>`, beside its redemptions).
    pub fn for_promo_code(
        code: &crate::promotions::rules::PromoCodeName,
        actor: &str,
        action: &str,
        reason: &str,
        (before, after): (serde_json::Value, serde_json::Value),
        at: DateTime<Utc>,
    ) -> Self {
        let what = Action { actor, action, reason, before, after };
        Self::in_partition(format!("PROMO#{code}"), None, None, what, at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("A reason is required.")]
    Missing,
    #[error("The reason must be at most {MAX_REASON_CHARS} characters.")]
    TooLong,
}

/// An operator's reason, trimmed: required, and bounded.
pub fn checked_reason(raw: Option<&str>) -> Result<String, ReasonError> {
    let reason = raw.map(str::trim).filter(|r| !r.is_empty()).ok_or(ReasonError::Missing)?;
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ReasonError::TooLong);
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_required_trimmed_and_bounded() {
        assert_eq!(checked_reason(None), Err(ReasonError::Missing));
        assert_eq!(checked_reason(Some("   ")), Err(ReasonError::Missing));
        assert_eq!(checked_reason(Some("  fraud review ")), Ok("fraud review".to_owned()));
        assert_eq!(checked_reason(Some(&"x".repeat(MAX_REASON_CHARS))).map(|r| r.len()), Ok(MAX_REASON_CHARS));
        assert_eq!(checked_reason(Some(&"x".repeat(MAX_REASON_CHARS + 1))), Err(ReasonError::TooLong));
    }

    #[test]
    fn entries_sort_by_time_in_the_organizations_partition() {
        let org = OrganizationId::parse("acme").unwrap();
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 9, 0, 0).unwrap();
        let first = AuditEntry::new(&org, "ops", "x", "r", Default::default(), at);
        let later = AuditEntry::new(&org, "ops", "x", "r", Default::default(), at + chrono::Duration::milliseconds(1));
        assert_eq!(first.pk, "ORG#acme");
        assert!(first.sk.starts_with("AUDIT#2026-12-01T09:00:00.000Z#") && first.sk < later.sk);
    }
}
