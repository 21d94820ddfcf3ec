//! What customers ask of their subscription, the short lock that keeps two such requests
//! from interleaving, and storage snapshots.
//!
//! | Item | PK | SK |
//! |---|---|---|
//! | Last subscription request | `ORG#<org>` | `SUBSCRIPTION#REQUEST` |
//! | Subscription lock | `ORG#<org>` | `SUBSCRIPTION#LOCK` |
//! | Storage in use | `ORG#<org>` | `STORAGE` |
//!
//! The request and the lock live beside the subscription item, not in it: the subscription
//! item is rewritten whole by every Stripe event, which must never wipe a pending downgrade.

pub mod trials;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::store::outbox::outbox_put;
use crate::store::{Retry, Store, StoreError, encode, key_item, keys, timestamp, written};
use crate::subscriptions::rules::Request;

fn request_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "SUBSCRIPTION#REQUEST".into() }
}

fn lock_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "SUBSCRIPTION#LOCK".into() }
}

fn storage_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "STORAGE".into() }
}

/// The customer's last request about their subscription: what explains the plan change it
/// leads to, and a downgrade waiting for the period end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRequest {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub subscription_id: String,
    pub request: Request,
    /// The tier asked for (upgrades and downgrades).
    pub tier: Option<String>,
    /// When a scheduled change takes effect.
    pub effective_at: Option<DateTime<Utc>>,
    /// The Stripe subscription schedule carrying a downgrade.
    pub schedule_id: Option<String>,
    pub reason: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

impl SubscriptionRequest {
    pub fn new(
        org: &OrganizationId,
        subscription_id: &str,
        request: Request,
        requested_by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let key = request_key(org);
        Self {
            pk: key.pk,
            sk: key.sk,
            organization_id: org.clone(),
            subscription_id: subscription_id.to_owned(),
            request,
            tier: None,
            effective_at: None,
            schedule_id: None,
            reason: None,
            requested_by: requested_by.to_owned(),
            requested_at: now,
        }
    }
}

/// The storage an organization uses, from its latest snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageSnapshot {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub used_gb: Decimal,
    pub recorded_at: DateTime<Utc>,
    /// Whether this snapshot is above the plan's limit (a crossing is announced once).
    pub over_limit: bool,
}

impl StorageSnapshot {
    pub fn new(org: &OrganizationId, used_gb: Decimal, recorded_at: DateTime<Utc>, over_limit: bool) -> Self {
        let key = storage_key(org);
        Self { pk: key.pk, sk: key.sk, organization_id: org.clone(), used_gb, recorded_at, over_limit }
    }
}

impl Store {
    pub async fn subscription_request(&self, org: &OrganizationId) -> Result<Option<SubscriptionRequest>, StoreError> {
        self.get_item(request_key(org)).await
    }

    /// Records the customer's latest request (it replaces the one before).
    pub async fn put_subscription_request(&self, request: &SubscriptionRequest) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(request)?))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("PutItem", e))?;
        Ok(())
    }

    /// Forgets the request made at `requested_at` (fulfilled or withdrawn); a newer request
    /// stays. `false` when it was already gone or replaced.
    pub async fn clear_subscription_request(
        &self,
        org: &OrganizationId,
        requested_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&request_key(org))))
            .condition_expression("requested_at = :at")
            .expression_attribute_values(":at", AttributeValue::S(timestamp(requested_at)))
            .send()
            .await;
        written("DeleteItem", result)
    }

    /// Takes the organization's subscription lock until `until` unless someone else holds
    /// it. A holder that crashed loses it when it expires.
    pub async fn try_lock_subscription(
        &self,
        org: &OrganizationId,
        token: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut item = key_item(&lock_key(org));
        item.insert("token".into(), AttributeValue::S(token.into()));
        item.insert("until".into(), AttributeValue::N(until.timestamp_millis().to_string()));
        // Expired locks are also removed by TTL, long after they stopped counting.
        item.insert("expires_at".into(), AttributeValue::N((until.timestamp() + 3600).to_string()));
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR #until < :now")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
            .send()
            .await;
        written("PutItem", result)
    }

    /// Gives the lock back if it is still ours.
    pub async fn unlock_subscription(&self, org: &OrganizationId, token: &str) -> Result<bool, StoreError> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&lock_key(org))))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", AttributeValue::S(token.into()))
            .send()
            .await;
        written("DeleteItem", result)
    }

    pub async fn storage_snapshot(&self, org: &OrganizationId) -> Result<Option<StorageSnapshot>, StoreError> {
        self.get_item(storage_key(org)).await
    }

    /// Stores a snapshot unless a later (or the same) one is already stored, with the
    /// `announce` event (a limit crossing) in the same transaction. `false` when older.
    pub async fn record_storage_snapshot(
        &self,
        snapshot: &StorageSnapshot,
        announce: Option<&Envelope>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const LATER_ONLY: &str = "attribute_not_exists(PK) OR recorded_at < :at";
        let at = AttributeValue::S(timestamp(snapshot.recorded_at));
        let Some(event) = announce else {
            let result = self
                .client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(encode(snapshot)?))
                .condition_expression(LATER_ONLY)
                .expression_attribute_values(":at", at)
                .send()
                .await;
            return written("PutItem", result);
        };
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(snapshot)?))
            .condition_expression(LATER_ONLY)
            .expression_attribute_values(":at", at)
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "PutItem", message: e.to_string() })?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), event, now)?).build(),
        ];
        // One attempt, as this write always made: a failure returns the message to its queue.
        // The snapshot (item 0) decides whether it is later than the one stored.
        self.transact(items, Retry::Never).await?.committed_unless(0)
    }
}
