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
    // Boxed: see run_schedule.
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move {
            Ok::<_, std::convert::Infallible>(
                super::invocation(handle_stream_batch(handler.as_ref(), app, event.payload)).await,
            )
        }
    })))
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn app() -> App {
        let aws = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let config = crate::config::Config::from_lookup(|k| (k == "BILLING_TABLE").then(|| "t".to_owned())).unwrap();
        App::new(config, &aws, Arc::new(crate::clock::SystemClock))
    }

    fn batch(sequences: &[&str]) -> Event {
        let records: Vec<_> = sequences
            .iter()
            .map(|s| {
                serde_json::json!({ "awsRegion": "us-east-1", "eventID": s, "eventName": "INSERT",
                                    "dynamodb": { "SequenceNumber": s, "SizeBytes": 1 } })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn a_batch_stops_at_the_first_record_to_retry_and_reports_only_that_one() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let handler = move |_app: App, record: EventRecord| {
            log.lock().unwrap().push(record.event_id.clone());
            async move {
                match record.event_id.as_str() {
                    "1" => Err(MessageError::Reject("poison".into())),
                    "3" => Err(MessageError::Retry(anyhow::anyhow!("PutEvents failed"))),
                    _ => Ok(()),
                }
            }
        };

        let response = handle_stream_batch(&handler, app(), batch(&["1", "2", "3", "4", "5"])).await;

        let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(failed, [Some("3".to_owned())], "redelivery starts at the failed record");
        assert_eq!(*seen.lock().unwrap(), ["1", "2", "3"], "nothing after it is applied out of order");
    }

    #[tokio::test]
    async fn a_batch_that_succeeds_reports_no_failures() {
        let handler = |_app: App, _record: EventRecord| async { Ok::<(), MessageError>(()) };
        let response = handle_stream_batch(&handler, app(), batch(&["1", "2"])).await;
        assert!(response.batch_item_failures.is_empty());
    }
}
