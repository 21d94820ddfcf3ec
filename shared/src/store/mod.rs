//! DynamoDB access for the single billing table.
//!
//! Items are mapped with `serde_dynamo`; every write that creates something or moves money is
//! a conditional write, so retries and races resolve in DynamoDB rather than in our code.

pub mod accounts;
pub mod calls;
pub mod costs;
pub mod expr;
pub mod keys;
pub mod ledger;
pub mod outbox;
pub mod quota;
pub mod stripe;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;

pub use accounts::AccountItem;

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
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// Classifies an SDK failure: transport trouble and throttling are retryable outages,
    /// anything else is a bug or a misconfiguration.
    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let throttled = err.as_service_error().and_then(|e| e.code()).is_some_and(|code| {
            matches!(code, "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded")
        });
        let transport =
            matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_));
        let message = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
        if throttled || transport {
            Self::Unavailable { operation, message }
        } else {
            Self::Dynamo { operation, message }
        }
    }
}

/// Handle to the billing table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: Arc<str>,
    /// Last account state seen per organization: the first guess for the next reservation,
    /// never trusted without a conditional write.
    hints: Arc<Mutex<HashMap<String, crate::domain::account::Account>>>,
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<Arc<str>>) -> Self {
        Self { client, table: table.into(), hints: Arc::default() }
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
        let out = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("GetItem", e))?;
        out.item.map(|item| decode(&key, item)).transpose()
    }
}

/// Whether a conditional write happened: a failed condition is `Ok(false)` (someone else got
/// there first, or the state moved on), any other failure is an error.
pub(crate) fn written<T, E, R>(operation: &'static str, result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
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
