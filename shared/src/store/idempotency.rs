//! Stored answers for POSTs sent with an `Idempotency-Key` (`IDEMPOTENCY#<org>#<key>` / `KEY`,
//! kept for a day by TTL): the first request runs and its answer is kept; a repeat gets that
//! answer again; the same key on a different request is refused.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::conditional::Checked;
use super::{Retry, Store, StoreError, encode, key_item, keys};
use crate::ids::OrganizationId;

/// How long a stored answer is replayed.
const KEEP_HOURS: i64 = 24;

fn key(org: &OrganizationId, idempotency_key: &str) -> keys::Key {
    keys::Key { pk: format!("IDEMPOTENCY#{org}#{idempotency_key}"), sk: "KEY".into() }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct IdempotencyRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Fingerprint of method, path and body: the key may only be reused for the same request.
    request_hash: String,
    /// `running` until the first request answers, then `done`.
    state: String,
    /// While running: until when (milliseconds) the first request may take before another
    /// may take over (it crashed).
    running_until: i64,
    status: Option<u16>,
    body: Option<String>,
    expires_at: i64,
}

/// What to do with a request carrying an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The first time (or the first request died): run it.
    Run,
    /// Answered before: give the same answer.
    Replay { status: u16, body: String },
    /// The first request with this key is still running.
    InUse,
    /// The key was used for a different request.
    Mismatch,
}

impl Store {
    pub async fn claim_idempotency_key(
        &self,
        org: &OrganizationId,
        idempotency_key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        running_for: Duration,
    ) -> Result<Claim, StoreError> {
        let k = key(org, idempotency_key);
        let record = IdempotencyRecord {
            pk: k.pk.clone(),
            sk: k.sk.clone(),
            request_hash: request_hash.to_owned(),
            state: "running".into(),
            running_until: (now + running_for).timestamp_millis(),
            status: None,
            body: None,
            expires_at: (now + Duration::hours(KEEP_HOURS)).timestamp(),
        };
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&record)?))
            .condition_expression(
                "attribute_not_exists(PK) OR (#state = :running AND running_until < :now AND request_hash = :hash)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":running", AttributeValue::S("running".into()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
            .expression_attribute_values(":hash", AttributeValue::S(request_hash.to_owned()));
        // One attempt: sent again after a lost answer, the claim would find its own running
        // claim and answer `InUse` to the request that holds it. The client retries instead.
        let old = match self.put_checked(put, Retry::Never).await? {
            Checked::Written(()) => return Ok(Claim::Run),
            Checked::Refused(old) => old,
        };
        let Some(old) = old else { return Ok(Claim::InUse) };
        let old: IdempotencyRecord = super::decode(&k, old)?;
        Ok(if old.request_hash != request_hash {
            Claim::Mismatch
        } else if let (true, Some(status), Some(body)) = (old.state == "done", old.status, old.body) {
            Claim::Replay { status, body }
        } else {
            Claim::InUse
        })
    }

    /// Keeps the first request's answer for repeats.
    pub async fn finish_idempotency_key(
        &self,
        org: &OrganizationId,
        idempotency_key: &str,
        request_hash: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key(org, idempotency_key))))
            .update_expression("SET #state = :done, #status = :status, body = :body")
            .condition_expression("request_hash = :hash")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", AttributeValue::S("done".into()))
            .expression_attribute_values(":status", AttributeValue::N(status.to_string()))
            .expression_attribute_values(":body", AttributeValue::S(body.to_owned()))
            .expression_attribute_values(":hash", AttributeValue::S(request_hash.to_owned()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("UpdateItem", e))?;
        Ok(())
    }

    /// Forgets a key whose request failed on our side, so a retry runs again.
    pub async fn release_idempotency_key(
        &self,
        org: &OrganizationId,
        idempotency_key: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key(org, idempotency_key))))
            .condition_expression("#state = :running")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":running", AttributeValue::S("running".into()))
            .send()
            .await;
        super::written("DeleteItem", result)
    }
}
