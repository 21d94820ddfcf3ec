//! The transactional outbox: a domain event is stored as an item in the same DynamoDB write
//! as the state change that caused it, and the table's stream delivers it to EventBridge
//! (`stream-outbox`). So an event exists if and only if its change committed, and a failed
//! publish is retried from the stream instead of being forgotten.
//!
//! | Item | PK | SK |
//! |---|---|---|
//! | Outbox event | `ORG#<org>` | `OUTBOX#<envelope id>` |
//!
//! Items expire after [`OUTBOX_TTL_DAYS`]; the stream has long delivered them by then (the
//! consumer only reacts to `INSERT`s, so the TTL deletion publishes nothing).

use aws_sdk_dynamodb::types::Put;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, encode, keys};
use crate::events::Envelope;

/// Sort key prefix of outbox items; the stream consumer's filter matches on it.
pub const OUTBOX_PREFIX: &str = "OUTBOX#";
/// How long a delivered outbox item is kept (the stream itself keeps records for 24 hours).
pub const OUTBOX_TTL_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub event_type: String,
    /// The serialized envelope, exactly as it is published as `detail`.
    pub envelope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("the outbox item does not have the expected shape: {0}")]
    Shape(#[from] serde_dynamo::Error),
    #[error("the outbox item's envelope is not a billing event: {0}")]
    Envelope(#[from] serde_json::Error),
}

impl OutboxItem {
    pub fn new(envelope: &Envelope, now: DateTime<Utc>) -> Result<Self, StoreError> {
        let json = serde_json::to_string(envelope).map_err(|e| StoreError::Dynamo {
            operation: "PutItem",
            message: format!("could not serialize event {}: {e}", envelope.id),
        })?;
        Ok(Self {
            pk: keys::org_partition(&envelope.organization_id),
            sk: format!("{OUTBOX_PREFIX}{}", envelope.id),
            event_type: envelope.event.name().to_owned(),
            envelope: json,
            created_at: now,
            expires_at: (now + chrono::Duration::days(OUTBOX_TTL_DAYS)).timestamp(),
        })
    }

    /// The envelope stored in a stream record's new image.
    pub fn envelope_from_image(image: serde_dynamo::Item) -> Result<Envelope, OutboxError> {
        let item: OutboxItem = serde_dynamo::from_item(image)?;
        Ok(serde_json::from_str(&item.envelope)?)
    }
}

/// Whether a stream record announces a new outbox item (the same test as the template's
/// event source filter, applied again so a misconfigured filter publishes nothing else).
pub fn is_outbox_insert(event_name: &str, keys: &serde_dynamo::Item) -> bool {
    event_name == "INSERT"
        && matches!(keys.get(keys::SK), Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(OUTBOX_PREFIX))
}

/// The outbox `Put` to add to the transaction that makes the change. Unconditional: the
/// envelope id is derived from the change, so a repeated write stores the same item and the
/// stream (which only forwards `INSERT`s) does not announce it again.
pub fn outbox_put(table: &str, envelope: &Envelope, now: DateTime<Utc>) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(encode(&OutboxItem::new(envelope, now)?)?))
        .build()
        .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })
}

impl super::Store {
    /// Announces an event that goes with no state change of ours (a refused reservation, a
    /// trial about to end): the outbox item alone. Its id is derived from its cause, so a
    /// repeat writes the same item, which is not a new `INSERT` and is published once.
    pub async fn announce(&self, envelope: &Envelope, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.put(&OutboxItem::new(envelope, now)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::DomainEvent;
    use crate::ids::OrganizationId;
    use chrono::TimeZone;

    #[test]
    fn an_outbox_item_round_trips_its_envelope_and_expires_after_a_week() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
        let org = OrganizationId::parse("acme").unwrap();
        let envelope = Envelope::new(
            "suspended-in_1-3",
            &org,
            at,
            DomainEvent::AccountSuspended {
                reason: "unpaid".into(),
                suspension_reason: Some("payment_failed".into()),
                invoice_id: Some("in_1".into()),
            },
        );
        let item = OutboxItem::new(&envelope, at).unwrap();
        assert_eq!((item.pk.as_str(), item.sk.as_str()), ("ORG#acme", "OUTBOX#suspended-in_1-3"));
        assert_eq!(item.expires_at - at.timestamp(), 7 * 86_400);
        let image: serde_dynamo::Item = serde_dynamo::to_item(&item).unwrap();
        assert_eq!(OutboxItem::envelope_from_image(image).unwrap(), envelope);
    }
}
