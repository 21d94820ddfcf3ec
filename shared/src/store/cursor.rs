//! Cursors of paginated lists: opaque, URL-safe tokens naming where the next page starts.
//!
//! A cursor carries DynamoDB's `LastEvaluatedKey` and the query it came from (which list,
//! which organization, every filter). It is accepted back only by that same query, and its
//! key must lie in the organization's partition inside the queried range. So a cursor from
//! another list, kept after changing a filter, or edited by hand is refused before DynamoDB
//! sees it: it can neither read another partition nor make DynamoDB answer
//! `ValidationException` (a start key outside the key condition).
//!
//! Cursors are not signed. A client that rebuilds one can only move the start of a page
//! within its own organization's range, which `from`/`to` already let it do.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::Key;
use crate::ids::OrganizationId;

/// The paginated lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Usage,
    Costs,
    Invoices,
    Audit,
    /// An audit trail outside any organization: a flag's (`FLAG#<name>`) or a queue's
    /// (`QUEUE#<logical id>`).
    PlatformAudit,
}

/// The query a page belongs to: everything but the page size, which may change between pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub list: ListKind,
    pub organization_id: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub billed: Option<bool>,
    /// The status filter of the invoice list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The partition listed, for lists outside any organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// A list read newest first: a cursor of one order cannot continue the other.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub newest_first: bool,
}

impl ListQuery {
    pub fn new(
        list: ListKind,
        org: &OrganizationId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        billed: Option<bool>,
    ) -> Self {
        Self {
            list,
            organization_id: org.to_string(),
            from,
            to,
            billed,
            status: None,
            partition: None,
            newest_first: false,
        }
    }

    /// The same query, read in `order`.
    pub fn in_order(self, order: super::paging::Order) -> Self {
        Self { newest_first: order == super::paging::Order::NewestFirst, ..self }
    }

    /// An audit trail outside any organization, in `partition`.
    pub fn platform_audit(partition: String, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        Self {
            list: ListKind::PlatformAudit,
            organization_id: String::new(),
            from,
            to,
            billed: None,
            status: None,
            partition: Some(partition),
            newest_first: false,
        }
    }

    /// The partition the list reads: the organization's, or the one named.
    pub fn partition(&self) -> String {
        self.partition.clone().unwrap_or_else(|| format!("ORG#{}", self.organization_id))
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Token {
    v: u8,
    query: ListQuery,
    pk: String,
    sk: String,
}

const VERSION: u8 = 1;
/// Far above any cursor we issue; anything longer is not worth decoding.
const MAX_LEN: usize = 2048;

/// Why a cursor was refused. Every case is the client's doing (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("The cursor is empty; leave it out to start at the first page.")]
    Empty,
    #[error("The cursor is not one this API returned.")]
    Malformed,
    #[error("The cursor belongs to another list; use a cursor only on the list that returned it.")]
    OtherList,
    #[error("The cursor belongs to a query with other filters; start again without a cursor after changing them.")]
    OtherQuery,
    #[error("The cursor points outside the listed range.")]
    OutOfRange,
}

/// The cursor for the page after `last` (DynamoDB's `LastEvaluatedKey`).
pub fn encode(query: &ListQuery, last: &Key) -> String {
    let token = Token { v: VERSION, query: query.clone(), pk: last.pk.clone(), sk: last.sk.clone() };
    let json = serde_json::to_vec(&token).expect("a cursor token always serializes");
    URL_SAFE_NO_PAD.encode(json)
}

/// The start key a cursor names, if it came from `query` and lies in `low..=high` of the
/// query's organization partition.
pub fn decode(raw: &str, query: &ListQuery, low: &str, high: &str) -> Result<Key, CursorError> {
    if raw.is_empty() {
        return Err(CursorError::Empty);
    }
    if raw.len() > MAX_LEN {
        return Err(CursorError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError::Malformed)?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
    if token.v != VERSION {
        return Err(CursorError::Malformed);
    }
    if token.query.list != query.list {
        return Err(CursorError::OtherList);
    }
    if token.query != *query {
        return Err(CursorError::OtherQuery);
    }
    if token.pk != query.partition() || token.sk.as_str() < low || token.sk.as_str() > high {
        return Err(CursorError::OutOfRange);
    }
    Ok(Key { pk: token.pk, sk: token.sk })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(list: ListKind, org: &str, billed: Option<bool>) -> ListQuery {
        ListQuery::new(list, &OrganizationId::parse(org).unwrap(), None, None, billed)
    }

    fn key(pk: &str, sk: &str) -> Key {
        Key { pk: pk.into(), sk: sk.into() }
    }

    const LOW: &str = "COST#";
    const HIGH: &str = "COST#9999~";

    #[test]
    fn a_cursor_round_trips_on_the_query_that_issued_it() {
        let q = query(ListKind::Costs, "acme", None);
        let last = key("ORG#acme", "COST#2026-11-23T09:00:00.000Z#e1");
        let raw = encode(&q, &last);
        assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "URL-safe: {raw}");
        assert_eq!(decode(&raw, &q, LOW, HIGH), Ok(last));
    }

    #[test]
    fn a_cursor_is_refused_by_any_other_query_or_when_it_points_elsewhere() {
        let costs = query(ListKind::Costs, "acme", None);
        let raw = encode(&costs, &key("ORG#acme", "COST#2026-11-23T09:00:00.000Z#e1"));
        assert_eq!(decode("", &costs, LOW, HIGH), Err(CursorError::Empty));
        assert_eq!(decode("zz", &costs, LOW, HIGH), Err(CursorError::Malformed));
        assert_eq!(decode(&format!("{raw}!"), &costs, LOW, HIGH), Err(CursorError::Malformed));
        assert_eq!(decode(&"A".repeat(MAX_LEN + 4), &costs, LOW, HIGH), Err(CursorError::Malformed));
        assert_eq!(
            decode(&raw, &query(ListKind::Usage, "acme", None), "USAGE#", "USAGE#~"),
            Err(CursorError::OtherList)
        );
        assert_eq!(decode(&raw, &query(ListKind::Costs, "other", None), LOW, HIGH), Err(CursorError::OtherQuery));
        let narrower = ListQuery { from: Some(Utc::now()), ..costs.clone() };
        assert_eq!(decode(&raw, &narrower, LOW, HIGH), Err(CursorError::OtherQuery));
        let usage = query(ListKind::Usage, "acme", Some(true));
        let billed = encode(&usage, &key("ORG#acme", "USAGE#2026"));
        assert_eq!(
            decode(&billed, &query(ListKind::Usage, "acme", Some(false)), "USAGE#", "USAGE#~"),
            Err(CursorError::OtherQuery)
        );
        // Rebuilt by hand with the right query but a key elsewhere.
        let foreign = encode(&costs, &key("ORG#other", "COST#2026"));
        assert_eq!(decode(&foreign, &costs, LOW, HIGH), Err(CursorError::OutOfRange));
        let outside = encode(&costs, &key("ORG#acme", "USAGE#2026"));
        assert_eq!(decode(&outside, &costs, LOW, HIGH), Err(CursorError::OutOfRange));
    }
}
