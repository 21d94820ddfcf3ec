//! The work index (`GSI3`, keys only): how scheduled jobs find what they have to do without
//! a scan and without an index key shared by every account.
//!
//! Each job lists its work under its own partition prefix, sharded [`SHARDS`] ways by a hash
//! of the organization (`SWEEP#07`, `CLOSE#2026-11#07`, `DUNNING#07`), and where it matters
//! sorted by the zero-padded second the entry is next due ([`due_key`]). A job asks each shard
//! for what is due by now, so its cost follows the work, not the number of accounts; an item
//! leaves the index (its `GSI3PK`/`GSI3SK` removed) when it has nothing left to do.

use aws_sdk_dynamodb::types::AttributeValue;

use super::paging::Reach;
use super::{Item, Store, StoreError};
use crate::ids::OrganizationId;

pub const INDEX: &str = "GSI3";
pub const INDEX_PK: &str = "GSI3PK";
pub const INDEX_SK: &str = "GSI3SK";
/// Fixed forever: an organization's shard is derived from it.
pub const SHARDS: u32 = 16;

/// The organization's shard, `0..SHARDS`. FNV-1a: stable across processes and releases,
/// unlike the std hasher.
pub fn shard_of(org: &OrganizationId) -> u32 {
    let hash =
        org.as_str().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    // The remainder is below SHARDS, so it fits.
    (hash % u64::from(SHARDS)) as u32
}

/// The index partition of `org` under a job's `prefix` (`SWEEP#` → `SWEEP#07`).
pub fn partition(prefix: &str, org: &OrganizationId) -> String {
    shard_partition(prefix, shard_of(org))
}

pub fn shard_partition(prefix: &str, shard: u32) -> String {
    format!("{prefix}{shard:02}")
}

/// Sort key for "due at this Unix second": zero-padded, so strings sort as times.
pub fn due_key(seconds: i64) -> String {
    format!("{:012}", seconds.max(0))
}

impl Store {
    /// Keys of every entry in one index partition, or only those whose sort key is at most
    /// `at_most` (entries due by then). Pages through the whole answer.
    pub(crate) async fn index_entries(&self, pk: &str, at_most: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(INDEX)
            .expression_attribute_names("#pk", INDEX_PK)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()));
        let query = match at_most {
            Some(due) => query
                .key_condition_expression("#pk = :pk AND #sk <= :due")
                .expression_attribute_names("#sk", INDEX_SK)
                .expression_attribute_values(":due", AttributeValue::S(due.to_owned())),
            None => query.key_condition_expression("#pk = :pk"),
        };
        Ok(self.query_pages(query, None, Reach::All).await?.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_spread_organizations_and_never_change() {
        let org = |s: &str| OrganizationId::parse(s).unwrap();
        assert_eq!(partition("SWEEP#", &org("acme")), partition("SWEEP#", &org("acme")));
        let used: std::collections::BTreeSet<u32> = (0..200).map(|i| shard_of(&org(&format!("org-{i}")))).collect();
        assert_eq!(used.len(), SHARDS as usize);
        // The value for a known organization is part of the stored data: it must never move.
        assert_eq!(shard_partition("DUNNING#", 3), "DUNNING#03");
        assert_eq!(due_key(1_800_000_000), "001800000000");
        assert_eq!(due_key(-5), "000000000000");
    }
}
