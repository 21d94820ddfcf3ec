//! Finding expired holds without a scan and without a hot index partition.
//!
//! The sweep index (`GSI3`, keys only) lists an account item or an open run item while it
//! may hold something to expire. Its partition key is one of [`SWEEP_SHARDS`] shards picked
//! by a hash of the organization, so no key is shared by every account; its sort key is the
//! zero-padded second at which the entry is due. The sweeper asks each shard for entries due
//! by now, so its cost follows what is due, not how many accounts exist.
//!
//! An account enters the index with its first hold (`if_not_exists`, so later reserves do
//! not rewrite the entry) and leaves it when the sweeper finds no hold left; an entry that
//! is due early (its hold settled, a heartbeat extended it) is moved to the next expiry by
//! the sweeper. Run items leave the index when they are settled.

use chrono::{DateTime, Utc};

use super::{QuotaError, Written};
use crate::ids::OrganizationId;
use crate::store::expr::UpdateExpr;
use crate::store::work_index::{self, SHARDS};
use crate::store::{Store, StoreError, keys};

pub const SWEEP_INDEX: &str = work_index::INDEX;
pub(crate) const INDEX_PK: &str = work_index::INDEX_PK;
pub(crate) const INDEX_SK: &str = work_index::INDEX_SK;
/// Fixed forever: an organization's shard is derived from it.
pub const SWEEP_SHARDS: u32 = SHARDS;
const PREFIX: &str = "SWEEP#";

/// One entry the sweeper found due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepEntry {
    /// An account whose earliest hold may have expired.
    Account(OrganizationId),
    /// An open run item whose hold may have expired.
    Run(OrganizationId, String),
}

pub(crate) fn shard(org: &OrganizationId) -> String {
    work_index::partition(PREFIX, org)
}

pub(crate) fn due(expires_at: i64) -> String {
    work_index::due_key(expires_at)
}

impl Store {
    /// Index entries due at or before `now`, every shard. Keys that are not an account or a
    /// run item are skipped (and logged) rather than stopping the sweep.
    pub async fn sweep_due(&self, now: DateTime<Utc>) -> Result<Vec<SweepEntry>, StoreError> {
        let mut found = Vec::new();
        for n in 0..SWEEP_SHARDS {
            let shard = work_index::shard_partition(PREFIX, n);
            for item in self.index_entries(&shard, Some(&due(now.timestamp()))).await? {
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                match entry(&text(keys::PK), &text(keys::SK)) {
                    Some(entry) => found.push(entry),
                    None => {
                        tracing::error!(pk = %text(keys::PK), sk = %text(keys::SK), "unexpected item in the sweep index; skipped")
                    }
                }
            }
        }
        Ok(found)
    }

    /// Expires every expired hold of an account, then moves its index entry to its next
    /// expiry, or removes it when no hold is left. Returns the holds expired here.
    pub async fn sweep_account(&self, org: &OrganizationId, now: DateTime<Utc>) -> Result<u32, QuotaError> {
        let Some(account) = self.get_account(org).await? else {
            return Ok(0);
        };
        let mut expired = 0;
        for (run_id, hold) in &account.holds {
            if hold.expires_at > now.timestamp() {
                continue;
            }
            match self.expire_hold(org, run_id, now).await {
                Ok(r) if r.created => expired += 1,
                Ok(_) | Err(QuotaError::NotFound(_) | QuotaError::AlreadySettled { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        self.reindex_account(org).await?;
        Ok(expired)
    }

    async fn reindex_account(&self, org: &OrganizationId) -> Result<(), QuotaError> {
        for _ in 0..3 {
            let Some(account) = self.get_account(org).await? else {
                return Ok(());
            };
            let mut u = UpdateExpr::new();
            let (holds, sweep_pk, sweep_sk) = (u.name("holds"), u.name(INDEX_PK), u.name(INDEX_SK));
            match account.holds.values().map(|h| h.expires_at).min() {
                None => {
                    let zero = u.num(0);
                    u.remove(sweep_pk).remove(sweep_sk).require(format!("size({holds}) = {zero}"));
                }
                Some(next) => {
                    let next = u.str(due(next));
                    u.set(format!("{sweep_sk} = {next}")).require(format!("attribute_exists({sweep_pk})"));
                }
            }
            // A reserve in between changes what is right: read again and redo.
            if let Written::Done(_) = self.conditional_update(org, &u).await? {
                return Ok(());
            }
        }
        Ok(())
    }
}

fn entry(pk: &str, sk: &str) -> Option<SweepEntry> {
    let org = OrganizationId::parse(pk.strip_prefix("ORG#")?).ok()?;
    match sk {
        "ACCOUNT" => Some(SweepEntry::Account(org)),
        _ => Some(SweepEntry::Run(org, sk.strip_prefix("RUN#")?.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_spread_organizations_and_never_change() {
        let org = |s: &str| OrganizationId::parse(s).unwrap();
        assert_eq!(shard(&org("acme")), shard(&org("acme")));
        let used: std::collections::BTreeSet<String> = (0..200).map(|i| shard(&org(&format!("org-{i}")))).collect();
        assert_eq!(used.len(), SWEEP_SHARDS as usize);
        assert_eq!(due(1_800_000_000), "001800000000");
    }

    #[test]
    fn index_keys_name_an_account_or_a_run() {
        let org = OrganizationId::parse("acme").unwrap();
        assert_eq!(entry("ORG#acme", "ACCOUNT"), Some(SweepEntry::Account(org.clone())));
        assert_eq!(entry("ORG#acme", "RUN#r-1"), Some(SweepEntry::Run(org, "r-1".into())));
        assert_eq!(entry("ORG#acme", "USAGE#x"), None);
        assert_eq!(entry("STRIPE#x", "ACCOUNT"), None);
    }
}
