//! Bring-your-own provider keys as stored: one sealed item per provider
//! (`ORG#<org>/BYOKEY#<provider>`) and the organization's encrypted data key
//! (`ORG#<org>/BYOKEYRING`), created once by a conditional put so racing first saves agree on
//! one data key. No item holds a key in clear.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::byo_keys::rules::{KEY_PREFIX, StoredKey};
use crate::ids::OrganizationId;
use crate::store::paging::Order;
use crate::store::{Store, StoreError, decode, key_item, keys, retrying, timestamp, written};

/// `ORG#<org>` / `BYOKEYRING`: the organization's data key, encrypted under the KMS key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    /// Base64 of KMS's ciphertext blob.
    pub encrypted_data_key: String,
    pub created_at: DateTime<Utc>,
}

impl Keyring {
    pub fn new(org: &OrganizationId, encrypted: &[u8], at: DateTime<Utc>) -> Self {
        let key = keyring_key(org);
        Self { pk: key.pk, sk: key.sk, encrypted_data_key: STANDARD.encode(encrypted), created_at: at }
    }

    pub fn encrypted(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.encrypted_data_key).ok()
    }
}

fn keyring_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "BYOKEYRING".to_owned() }
}

fn stored_key(org: &OrganizationId, provider: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: StoredKey::sort_key(provider) }
}

impl Store {
    pub async fn keyring(&self, org: &OrganizationId) -> Result<Option<Keyring>, StoreError> {
        self.get_item(keyring_key(org)).await
    }

    /// Stores the organization's first data key; `false` if another request stored one first.
    pub async fn create_keyring(&self, keyring: &Keyring) -> Result<bool, StoreError> {
        self.put_new(keyring).await
    }

    /// Saves the sealed key (replacing the provider's previous one).
    pub async fn put_byo_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        self.put(key).await
    }

    pub async fn byo_key(&self, org: &OrganizationId, provider: &str) -> Result<Option<StoredKey>, StoreError> {
        self.get_item(stored_key(org, provider)).await
    }

    /// Every stored key of the organization, by provider.
    pub async fn byo_keys(&self, org: &OrganizationId) -> Result<Vec<StoredKey>, StoreError> {
        let pk = keys::org_partition(org);
        let high = format!("{KEY_PREFIX}~");
        let (items, _) = self.query_range(&pk, KEY_PREFIX, &high, None, None, usize::MAX, Order::OldestFirst).await?;
        items.into_iter().map(|(key, item)| decode(&key, item)).collect()
    }

    /// `false` when there was none.
    pub async fn delete_byo_key(&self, org: &OrganizationId, provider: &str) -> Result<bool, StoreError> {
        let key = stored_key(org, provider);
        retrying(|| async {
            let sent = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .condition_expression("attribute_exists(PK)")
                .send()
                .await;
            written("DeleteItem", sent)
        })
        .await
    }

    /// Records that the workflow engine read the key (if it still exists).
    pub async fn touch_byo_key(
        &self,
        org: &OrganizationId,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = stored_key(org, provider);
        let sent = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key)))
            .update_expression("SET last_used_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":at", AttributeValue::S(timestamp(at)))
            .send()
            .await;
        written("UpdateItem", sent).map(drop)
    }
}
