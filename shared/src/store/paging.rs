//! Reading a query page after page, and the shapes of a listed page.
//!
//! Why here: DynamoDB answers a query 1 MB (or `Limit` items) at a time and says where to go
//! on with `LastEvaluatedKey`. Following it is the same loop whatever is read, so it is
//! written once (`Store::query_pages`), and so is the sort-key range every list reads
//! (`Store::query_range`, `Store::decoded_page`). The shapes a list hands its callers
//! ([`Listing`], [`Order`], [`Page`], [`ListError`]) sit next to [`cursor`](super::cursor),
//! which turns the key to resume from into a token bound to its query.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::cursor::{self, CursorError, ListQuery};
use super::{Item, Store, StoreError, decode, key_item, keys, retrying};

/// A page of items and the cursor for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Listing bounds: records from `from` to `to` (inclusive), `limit` per page, resuming at
/// `cursor` (a token from the previous page of the same query).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl Listing {
    fn bounds(&self, prefix: &str) -> (String, String) {
        let stamp = |at: DateTime<Utc>| at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let low = format!("{prefix}{}", self.from.map(stamp).unwrap_or_default());
        let high = format!("{prefix}{}~", self.to.map(stamp).unwrap_or_else(|| "9999".to_owned()));
        (low, high)
    }
}

/// Which end of a list comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    OldestFirst,
    NewestFirst,
}

/// Why a page of a list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Cursor(#[from] CursorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How much of a query `Store::query_pages` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every item, to the end.
    All,
    /// `n` items at most, each request asking only for those still missing (`Limit`).
    Items(usize),
    /// At least `n` items unless the query ends first, each request a whole page: `Limit`
    /// counts items before a filter, so for a filter that drops most of what it reads, asking
    /// for what is missing would cost many small requests. The last page may bring more.
    WholePages(usize),
}

/// Items a query read, and where the next read resumes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pages {
    pub items: Vec<Item>,
    /// The last page's `LastEvaluatedKey` when the read stopped before the end (more may
    /// follow); `None` when the query ended.
    pub next: Option<Item>,
}

impl Store {
    /// Sends `query` from `start` and follows `LastEvaluatedKey` until `reach` is met or the
    /// query ends, each request retried on transient failures like every read.
    pub(crate) async fn query_pages(
        &self,
        query: QueryFluentBuilder,
        start: Option<Item>,
        reach: Reach,
    ) -> Result<Pages, StoreError> {
        let wanted = match reach {
            Reach::All => usize::MAX,
            Reach::Items(n) | Reach::WholePages(n) => n,
        };
        let mut read = Pages { items: Vec::new(), next: start };
        loop {
            let limit = match reach {
                Reach::Items(n) => Some(i32::try_from(n.saturating_sub(read.items.len())).unwrap_or(i32::MAX).max(1)),
                Reach::All | Reach::WholePages(_) => None,
            };
            let start = read.next.take();
            let page = retrying(|| {
                // On the heap: the SDK's request future is large, and every caller's future holds it.
                let sent = Box::pin(query.clone().set_exclusive_start_key(start.clone()).set_limit(limit).send());
                async { sent.await.map_err(|e| StoreError::from_sdk("Query", e)) }
            })
            .await?;
            read.items.extend(page.items.unwrap_or_default());
            read.next = page.last_evaluated_key;
            if read.next.is_none() || read.items.len() >= wanted {
                return Ok(read);
            }
        }
    }

    /// A strongly consistent query of the items of partition `pk` whose sort key starts with
    /// `prefix` (values `:pk` and `:prefix`), to narrow further (a filter, a projection) and
    /// send, most often with [`query_pages`](Self::query_pages).
    pub(crate) fn prefix_query(&self, pk: String, prefix: &str) -> QueryFluentBuilder {
        self.client()
            .query()
            .table_name(self.table())
            .consistent_read(true)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
    }

    /// Items of one partition whose sort key lies in `low..=high`, in `order`, optionally
    /// filtered, `limit` at most, resuming after the key `after`. Also returns the key to
    /// resume from when more may follow (DynamoDB's `LastEvaluatedKey`).
    #[allow(clippy::too_many_arguments)] // each is one part of the key condition or page
    pub(crate) async fn query_range(
        &self,
        pk: &str,
        low: &str,
        high: &str,
        filter: Option<(&str, &str, AttributeValue)>,
        after: Option<keys::Key>,
        limit: usize,
        order: Order,
    ) -> Result<(Vec<(keys::Key, Item)>, Option<keys::Key>), StoreError> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .expression_attribute_values(":low", AttributeValue::S(low.to_owned()))
            .expression_attribute_values(":high", AttributeValue::S(high.to_owned()))
            .scan_index_forward(order == Order::OldestFirst);
        if let Some((attribute, placeholder, value)) = filter {
            query = query
                .filter_expression(format!("#f = {placeholder}"))
                .expression_attribute_names("#f", attribute)
                .expression_attribute_values(placeholder, value);
        }
        let reach = if limit == usize::MAX { Reach::All } else { Reach::Items(limit) };
        let read = self.query_pages(query, after.map(|key| key_item(&key)), reach).await?;
        let key_of = |item: &Item| keys::Key {
            pk: pk.to_owned(),
            sk: item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
        };
        let items = read.items.into_iter().map(|item| (key_of(&item), item)).collect();
        Ok((items, read.next.as_ref().map(key_of)))
    }

    /// One page of `query` over the items whose sort keys start with `prefix` and a time; a
    /// cursor is checked against the query before DynamoDB sees it.
    pub(crate) async fn decoded_page<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &str,
        filter: Option<(&str, &str, AttributeValue)>,
        query: &ListQuery,
        listing: &Listing,
        order: Order,
    ) -> Result<Page<T>, ListError> {
        let (low, high) = listing.bounds(prefix);
        let after = listing.cursor.as_deref().map(|raw| cursor::decode(raw, query, &low, &high)).transpose()?;
        let pk = query.partition();
        let (items, last) = self.query_range(&pk, &low, &high, filter, after, listing.limit, order).await?;
        let items = items.into_iter().map(|(key, item)| decode(&key, item)).collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items, next_cursor: last.map(|key| cursor::encode(query, &key)) })
    }
}
