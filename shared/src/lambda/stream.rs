//! DynamoDB stream consumers with partial batch responses.
//!
//! Records of a shard must be applied in order, so the batch is handled one record at a time
//! and stops at the first that must be retried: that record's sequence number is reported
//! (`ReportBatchItemFailures`), and Lambda redelivers the batch from it, so nothing after it is
//! skipped and nothing before it is repeated. A record that can never succeed
//! (`MessageError::Reject`) is logged as an error and acknowledged so it cannot block its
//! shard.

use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures::future::BoxFuture;
use lambda_runtime::{LambdaEvent, service_fn};
use tracing::Instrument;

use super::MessageError;
use crate::App;

pub trait StreamHandler: Send + Sync + 'static {
    fn call(&self, app: App, record: EventRecord) -> BoxFuture<'static, Result<(), MessageError>>;
}

impl<F, Fut> StreamHandler for F
where
    F: Fn(App, EventRecord) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), MessageError>> + Send + 'static,
{
    fn call(&self, app: App, record: EventRecord) -> BoxFuture<'static, Result<(), MessageError>> {
        Box::pin(self(app, record))
    }
}

pub async fn run_dynamodb_stream(handler: impl StreamHandler) -> Result<(), lambda_runtime::Error> {
    let app = super::init().await?;
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { Ok::<_, std::convert::Infallible>(handle_stream_batch(handler.as_ref(), app, event.payload).await) }
    }))
    .await
}

/// Applies a batch in order; the answer names the first record to redeliver, if any.
pub async fn handle_stream_batch(handler: &dyn StreamHandler, app: App, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let sequence = record.change.sequence_number.clone();
        let span = tracing::info_span!(
            "stream",
            event_id = %record.event_id,
            sequence = sequence.as_deref().unwrap_or("-"),
            org = tracing::field::Empty
        );
        let outcome = handler.call(app.clone(), record).instrument(span.clone()).await;
        let _entered = span.enter();
        match outcome {
            Ok(()) => {}
            Err(MessageError::Reject(reason)) => {
                tracing::error!(reason, "stream record can never be applied; acknowledged to keep the shard moving");
            }
            Err(MessageError::Retry(err)) => {
                tracing::warn!(error = format!("{err:#}"), "stream record failed; Lambda will redeliver from it");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence;
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    response
}
