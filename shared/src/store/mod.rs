//! DynamoDB access for the single billing table.
//!
//! Items are mapped with `serde_dynamo`; every write that creates something or moves money is
//! a conditional write, so retries and races resolve in DynamoDB rather than in our code.
//!
//! # Layout
//!
//! The store core, which knows no concern's items (each concern's `store` part does):
//!
//! - this file — the [`Store`] handle, [`StoreError`], [`Retry`] and the retry of transient
//!   failures every request goes through, single-item reads and writes, `written`;
//! - [`transact`] — the one way to run a transaction, its retry policy, and how it ended;
//! - [`conditional`] — a conditional put or update that hands back the stored item when its
//!   condition fails;
//! - [`paging`] — following `LastEvaluatedKey`, the sort-key ranges lists read, the listed
//!   page's types; [`cursor`] — the tokens that resume a list;
//! - [`keys`] — the key layout; [`expr`] — update and condition expressions;
//! - [`outbox`] — domain events written with their change; [`idempotency`] — stored answers;
//!   [`work_index`] — how scheduled jobs find their work; [`calls`] — request counts.

pub mod calls;
pub mod conditional;
pub mod cursor;
pub mod expr;
pub mod idempotency;
pub mod keys;
pub mod outbox;
pub mod paging;
pub mod transact;
pub mod work_index;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or throttled us; the client should retry.
    #[error("DynamoDB {operation} could not be completed: {message}")]
    Unavailable { operation: &'static str, message: String },
    #[error("DynamoDB {operation} failed: {message}")]
    Dynamo { operation: &'static str, message: String },
    #[error("item {pk}/{sk} does not match its expected shape: {source}")]
    Decode { pk: String, sk: String, source: serde_dynamo::Error },
    #[error("could not encode an item: {0}")]
    Encode(#[source] serde_dynamo::Error),
}

impl StoreError {
    /// A failure that a later attempt can overcome: throttling, a transaction conflict, a 5xx
    /// or a transport failure. The caller may retry; a client should be told 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// Classifies an SDK failure: transport trouble, throttling, transaction conflicts and
    /// server errors are retryable outages; anything else is a bug or a misconfiguration.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let transient_code = err.as_service_error().and_then(|e| e.code()).is_some_and(is_transient_code);
        let server_error = err.raw_response().is_some_and(|r| r.status().is_server_error());
        let transport =
            matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_));
        let message = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
        if transient_code || server_error || transport {
            Self::Unavailable { operation, message }
        } else {
            Self::Dynamo { operation, message }
        }
    }
}

/// Error codes DynamoDB answers for a request that did not apply and may succeed if sent
/// again: throttling, a conflict with a concurrent transaction, a server-side failure.
pub fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TransactionConflictException"
            | "TransactionInProgressException"
            | "InternalServerError"
            | "ServiceUnavailable"
    )
}

/// Attempts of one request that keeps failing transiently before the caller is told 503.
/// The SDK's own retries (throttling and 5xx) happen inside each attempt.
pub const TRANSIENT_ATTEMPTS: u32 = 6;

/// Whether a request is sent again after a failure that a later attempt may overcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Up to [`TRANSIENT_ATTEMPTS`] attempts, a jittered, growing pause in between.
    Transient,
    /// One attempt. For a write that, sent again after its answer was lost, would meet its
    /// own first attempt and take it for somebody else's; its caller is retried whole instead
    /// (a queue's redelivery, a client's retry). Each use says why.
    Never,
}

impl Retry {
    fn attempts(self) -> u32 {
        match self {
            Self::Transient => TRANSIENT_ATTEMPTS,
            Self::Never => 1,
        }
    }
}

/// Runs `request` until it succeeds, fails for good, or has failed transiently
/// [`TRANSIENT_ATTEMPTS`] times, waiting a jittered, growing pause in between.
pub(crate) async fn retrying<T, F, Fut>(request: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    retry_while(Retry::Transient, transient_failure, request).await
}

/// What makes `result` worth another attempt, if anything: a store that was unavailable.
pub(crate) fn transient_failure<T>(result: &Result<T, StoreError>) -> Option<String> {
    result.as_ref().err().filter(|e| e.is_unavailable()).map(ToString::to_string)
}

/// Runs `request` as long as `again` names a reason to (a transient failure) and `retry`
/// allows another attempt, waiting a jittered, growing pause in between.
pub(crate) async fn retry_while<T, F, Fut>(
    retry: Retry,
    again: impl Fn(&Result<T, StoreError>) -> Option<String>,
    mut request: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0;
    loop {
        let result = request().await;
        match again(&result) {
            Some(error) if attempt + 1 < retry.attempts() => {
                tracing::warn!(error, attempt, "transient DynamoDB failure; retrying");
                jittered_pause(attempt).await;
                attempt += 1;
            }
            _ => return result,
        }
    }
}

/// Full-jitter exponential pause: up to 4, 8, 16 … 128 ms, so racing writers spread out.
pub(crate) async fn jittered_pause(attempt: u32) {
    let ceiling = 4u64 << attempt.min(5);
    tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(1..=ceiling))).await;
}

/// Handle to the billing table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: Arc<str>,
    /// Last account state seen per organization: the first guess for the next reservation,
    /// never trusted without a conditional write.
    pub(crate) hints: Arc<Mutex<HashMap<String, crate::accounts::rules::Account>>>,
    /// How a reserve starts for an organization this process has not seen yet.
    pub(crate) first_attempt: crate::quota::store::FirstAttempt,
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            table: table.into(),
            hints: Arc::default(),
            first_attempt: crate::quota::store::FirstAttempt::default(),
        }
    }

    /// The same store with another first-attempt strategy (the fleet benchmark compares them).
    pub fn with_first_attempt(mut self, first_attempt: crate::quota::store::FirstAttempt) -> Self {
        self.first_attempt = first_attempt;
        self
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

impl Store {
    /// A strongly consistent read of one item.
    pub(crate) async fn get_item<T: serde::de::DeserializeOwned>(
        &self,
        key: keys::Key,
    ) -> Result<Option<T>, StoreError> {
        self.get_raw_item(&key).await?.map(|item| decode(&key, item)).transpose()
    }

    /// A strongly consistent read of one item, as DynamoDB returns it.
    pub(crate) async fn get_raw_item(&self, key: &keys::Key) -> Result<Option<Item>, StoreError> {
        let out = retrying(|| async {
            self.client
                .get_item()
                .table_name(self.table())
                .set_key(Some(key_item(key)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("GetItem", e))
        })
        .await?;
        Ok(out.item)
    }
}

impl Store {
    /// Puts `value` as a whole item, replacing any with its key (transient failures retried).
    pub(crate) async fn put<T: serde::Serialize>(&self, value: &T) -> Result<(), StoreError> {
        let item = encode(value)?;
        retrying(|| async {
            self.client
                .put_item()
                .table_name(self.table())
                .set_item(Some(item.clone()))
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("PutItem", e))
        })
        .await?;
        Ok(())
    }

    /// Puts `value` as a new item; `false` when one with its key exists already.
    pub(crate) async fn put_new<T: serde::Serialize>(&self, value: &T) -> Result<bool, StoreError> {
        let item = encode(value)?;
        retrying(|| async {
            let sent = self
                .client
                .put_item()
                .table_name(self.table())
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(PK)")
                .send()
                .await;
            written("PutItem", sent)
        })
        .await
    }
}

/// Whether a conditional write happened: a failed condition is `Ok(false)` (someone else got
/// there first, or the state moved on), any other failure is an error.
pub(crate) fn written<T, E>(
    operation: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") => {
            Ok(false)
        }
        Err(err) => Err(StoreError::from_sdk(operation, err)),
    }
}

/// Timestamps exactly as `chrono`'s serde writes them into items, so expressions that
/// compare a stored timestamp with a value compare equal strings.
pub(crate) fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::to_value(at).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| at.to_rfc3339())
}

pub(crate) fn key_item(key: &keys::Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (keys::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(key: &keys::Key, item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|source| StoreError::Decode {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
        source,
    })
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(StoreError::Encode)
}
