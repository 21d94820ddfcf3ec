//! The operators' account directory: every account is listed once, when it is created, in
//! the index `GSI4` under `ACCOUNTS#<shard>` (16 shards by organization, as the work index)
//! sorted by organization id. The index projects only what a search shows (status, tier,
//! Stripe customer, billing email, suspension reason, creation time), so the account's hot
//! writes (every reserve) never write to it; a status or tier change writes one small entry.
//!
//! A page asks every shard for its next entries after the cursor and merges them, so pages
//! come in organization-id order across shards:
//! - an organization-id prefix is a key condition (reads only matching entries);
//! - status, tier and billing email are filters: DynamoDB reads the shard's entries until a
//!   page is full, about 128 read units per 7,000 entries read — cheap for an operator's
//!   occasional search, and no scan of the table;
//! - a Stripe customer id is an exact lookup through the customer map (`STRIPE#<cus>`).

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::rules::{Account, AccountStatus};
use crate::store::cursor::CursorError;
use crate::store::paging::Reach;
use crate::store::work_index::{SHARDS, partition, shard_partition};
use crate::store::{Store, StoreError};
use crate::{catalog::rules::TierId, ids::OrganizationId};

pub const INDEX: &str = "GSI4";
const PREFIX: &str = "ACCOUNTS#";

/// The account with its directory entry's keys set (done once, at creation).
pub(crate) fn listed(mut account: Account) -> Account {
    account.directory_partition = Some(partition(PREFIX, &account.organization_id));
    account.directory_key = Some(account.organization_id.to_string());
    account
}

/// What the directory shows of an account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DirectoryEntry {
    pub organization_id: OrganizationId,
    pub status: AccountStatus,
    pub tier: TierId,
    #[serde(default)]
    pub stripe_customer_id: Option<String>,
    #[serde(default)]
    pub billing_email: Option<String>,
    #[serde(default)]
    pub suspension_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An operator's search; every part optional, all parts must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSearch {
    pub organization_id_prefix: Option<String>,
    pub status: Option<AccountStatus>,
    pub tier: Option<String>,
    /// Compared lowercased, as stored.
    pub billing_email: Option<String>,
    pub stripe_customer_id: Option<String>,
}

impl AccountSearch {
    fn matches(&self, entry: &DirectoryEntry) -> bool {
        self.organization_id_prefix.as_ref().is_none_or(|p| entry.organization_id.as_str().starts_with(p.as_str()))
            && self.status.is_none_or(|s| entry.status == s)
            && self.tier.as_ref().is_none_or(|t| entry.tier.as_str() == t)
            && self.billing_email.as_ref().is_none_or(|e| entry.billing_email.as_deref() == Some(e.as_str()))
            && self.stripe_customer_id.as_ref().is_none_or(|c| entry.stripe_customer_id.as_deref() == Some(c.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPage {
    pub entries: Vec<DirectoryEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Token {
    v: u8,
    search: AccountSearch,
    after: String,
}

fn encode_cursor(search: &AccountSearch, after: &str) -> String {
    let token = Token { v: 1, search: search.clone(), after: after.to_owned() };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// The organization id after which the page starts, if the cursor is this search's.
pub fn decode_cursor(raw: &str, search: &AccountSearch) -> Result<String, CursorError> {
    if raw.is_empty() {
        return Err(CursorError::Empty);
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError::Malformed)?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
    if token.v != 1 || OrganizationId::parse(&token.after).is_err() {
        return Err(CursorError::Malformed);
    }
    if token.search != *search {
        return Err(CursorError::OtherQuery);
    }
    Ok(token.after)
}

/// The sort-key range after `after` and under `prefix`. Organization ids use `-`, digits,
/// letters and `_` only, so `-` is at most the smallest id, `<after>-` is the smallest id
/// after `after` and `<prefix>~` is above every id starting with `prefix`.
fn key_range(prefix: Option<&str>, after: Option<&str>) -> Option<(String, String)> {
    let low = match (prefix, after) {
        (Some(p), Some(a)) => std::cmp::max(p.to_owned(), format!("{a}-")),
        (Some(p), None) => p.to_owned(),
        (None, Some(a)) => format!("{a}-"),
        (None, None) => "-".to_owned(),
    };
    let high = prefix.map_or_else(|| "~".to_owned(), |p| format!("{p}~"));
    (low <= high).then_some((low, high))
}

impl Store {
    /// One page of accounts matching `search`, in organization-id order.
    pub async fn search_accounts(
        &self,
        search: &AccountSearch,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DirectoryPage, crate::store::paging::ListError> {
        let after = cursor.map(|raw| decode_cursor(raw, search)).transpose()?;
        if let Some(customer) = &search.stripe_customer_id {
            // An exact lookup: at most one account, so one page.
            let Some(org) = self.org_for_customer(customer).await? else {
                return Ok(DirectoryPage { entries: Vec::new(), next_cursor: None });
            };
            let entry = self.directory_entry(&org).await?;
            let after_cursor = |e: &DirectoryEntry| after.as_deref().is_none_or(|a| e.organization_id.as_str() > a);
            let entries = entry.into_iter().filter(|e| search.matches(e) && after_cursor(e)).collect();
            return Ok(DirectoryPage { entries, next_cursor: None });
        }
        let Some((low, high)) = key_range(search.organization_id_prefix.as_deref(), after.as_deref()) else {
            return Ok(DirectoryPage { entries: Vec::new(), next_cursor: None });
        };
        let shards = (0..SHARDS).map(|shard| self.directory_shard(shard, search, &low, &high, limit));
        let answers = futures::future::try_join_all(shards).await?;
        let more_in_a_shard = answers.iter().any(|(_, more)| *more);
        let mut entries: Vec<DirectoryEntry> = answers.into_iter().flat_map(|(found, _)| found).collect();
        entries.sort_by(|a, b| a.organization_id.as_str().cmp(b.organization_id.as_str()));
        let more = more_in_a_shard || entries.len() > limit;
        entries.truncate(limit);
        let next_cursor = match entries.last() {
            Some(last) if more => Some(encode_cursor(search, last.organization_id.as_str())),
            _ => None,
        };
        Ok(DirectoryPage { entries, next_cursor })
    }

    /// Up to `limit` matching entries of one shard in `low..=high`, and whether it has more.
    async fn directory_shard(
        &self,
        shard: u32,
        search: &AccountSearch,
        low: &str,
        high: &str,
        limit: usize,
    ) -> Result<(Vec<DirectoryEntry>, bool), StoreError> {
        let mut filters = Vec::new();
        let mut values = vec![
            (":pk", AttributeValue::S(shard_partition(PREFIX, shard))),
            (":low", AttributeValue::S(low.to_owned())),
            (":high", AttributeValue::S(high.to_owned())),
        ];
        if let Some(status) = search.status {
            filters.push("#status = :status");
            values.push((":status", AttributeValue::S(status.as_str().to_owned())));
        }
        if let Some(tier) = &search.tier {
            filters.push("tier = :tier");
            values.push((":tier", AttributeValue::S(tier.clone())));
        }
        if let Some(email) = &search.billing_email {
            filters.push("billing_email = :email");
            values.push((":email", AttributeValue::S(email.clone())));
        }
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(INDEX)
            .key_condition_expression("GSI4PK = :pk AND GSI4SK BETWEEN :low AND :high");
        for (name, value) in values {
            query = query.expression_attribute_values(name, value);
        }
        // One more than a page tells whether another page follows.
        let reach = if filters.is_empty() {
            Reach::Items(limit + 1)
        } else {
            query = query.filter_expression(filters.join(" AND "));
            if search.status.is_some() {
                query = query.expression_attribute_names("#status", "status");
            }
            Reach::WholePages(limit + 1)
        };
        let read = self.query_pages(query, None, reach).await?;
        let more = read.items.len() > limit || read.next.is_some();
        let mut found = Vec::new();
        for item in read.items {
            found.push(serde_dynamo::from_item(item).map_err(|source| StoreError::Decode {
                pk: shard_partition(PREFIX, shard),
                sk: "directory entry".to_owned(),
                source,
            })?);
        }
        found.truncate(limit);
        Ok((found, more))
    }

    /// The account's directory entry (read from the account itself).
    pub async fn directory_entry(&self, org: &OrganizationId) -> Result<Option<DirectoryEntry>, StoreError> {
        self.get_item(crate::store::keys::account(org)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_range_starts_after_the_cursor_and_stays_under_the_prefix() {
        assert_eq!(key_range(None, None), Some(("-".into(), "~".into())));
        assert_eq!(key_range(Some("acme"), None), Some(("acme".into(), "acme~".into())));
        assert_eq!(key_range(None, Some("acme")), Some(("acme-".into(), "~".into())));
        assert_eq!(key_range(Some("ac"), Some("acme")), Some(("acme-".into(), "ac~".into())));
        assert_eq!(key_range(Some("b"), Some("a9")), Some(("b".into(), "b~".into())));
        assert_eq!(key_range(Some("a"), Some("b")), None, "the cursor is past every match");
        // `acme-` is the first id after `acme`: `acme-1`, `acme0` and `acmeZ` all sort above it.
        for next in ["acme-1", "acme0", "acmeZ", "acme_", "acmf"] {
            assert!(next >= "acme-", "{next}");
        }
    }

    #[test]
    fn a_cursor_is_accepted_only_by_the_search_that_issued_it() {
        let search = AccountSearch { status: Some(AccountStatus::Suspended), ..Default::default() };
        let cursor = encode_cursor(&search, "acme");
        assert_eq!(decode_cursor(&cursor, &search), Ok("acme".into()));
        let other = AccountSearch { tier: Some("pro".into()), ..search.clone() };
        assert_eq!(decode_cursor(&cursor, &other), Err(CursorError::OtherQuery));
        assert_eq!(decode_cursor("not-a-cursor", &search), Err(CursorError::Malformed));
        assert_eq!(decode_cursor("", &search), Err(CursorError::Empty));
    }
}
