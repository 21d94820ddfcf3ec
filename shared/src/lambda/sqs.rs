//! SQS consumers with partial batch failure responses.
//!
//! A handler answers each message with `Ok`, `MessageError::Retry` (a passing trouble: SQS
//! redelivers it) or `MessageError::Reject` (it can never succeed: it is copied to the
//! function's dead-letter queue with the reason and acknowledged, so it neither loops nor
//! holds up the rest of the batch).
//!
//! Each message is handled on its own; only the ones that failed are reported back, so SQS
//! redelivers those and nothing else (the event source mapping must enable
//! `ReportBatchItemFailures`). On a FIFO queue the first failure also fails every later
//! message of the batch, because processing them would break per-group order.

use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::BoxFuture;
use lambda_runtime::{LambdaEvent, service_fn};
use tracing::Instrument;

use crate::App;
pub use crate::messages::MessageError;

pub trait SqsHandler: Send + Sync + 'static {
    fn call(&self, app: App, message: SqsMessage) -> BoxFuture<'static, Result<(), MessageError>>;
}

impl<F, Fut> SqsHandler for F
where
    F: Fn(App, SqsMessage) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), MessageError>> + Send + 'static,
{
    fn call(&self, app: App, message: SqsMessage) -> BoxFuture<'static, Result<(), MessageError>> {
        Box::pin(self(app, message))
    }
}

pub async fn run_sqs(handler: impl SqsHandler) -> Result<(), lambda_runtime::Error> {
    let app = super::init().await?;
    let handler = Arc::new(handler);
    // Boxed: see run_schedule.
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move {
            Ok::<_, std::convert::Infallible>(
                super::invocation(handle_batch(handler.as_ref(), app, event.payload)).await,
            )
        }
    })))
    .await
}

pub async fn handle_batch(handler: &dyn SqsHandler, app: App, event: SqsEvent) -> SqsBatchResponse {
    let fifo =
        event.records.first().and_then(|m| m.event_source_arn.as_deref()).is_some_and(|arn| arn.ends_with(".fifo"));
    // Each failed message's id and how often SQS has delivered it.
    let mut failed: Vec<(String, Option<u32>)> = Vec::new();
    if fifo {
        let mut blocked = false;
        for message in event.records {
            let seen = (message.message_id.clone().unwrap_or_default(), receive_count(&message));
            if blocked || !handle_one(handler, app.clone(), message).await {
                blocked = true;
                failed.push(seen);
            }
        }
    } else {
        let outcomes = futures::future::join_all(event.records.into_iter().map(|message| {
            let seen = (message.message_id.clone().unwrap_or_default(), receive_count(&message));
            let app = app.clone();
            async move { (seen, handle_one(handler, app, message).await) }
        }))
        .await;
        failed.extend(outcomes.into_iter().filter(|(_, ok)| !ok).map(|(seen, _)| seen));
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|(id, received)| {
            if is_last_receive(received, app.config.max_receive_count) {
                // SQS's redrive moves it to the dead-letter queue instead of delivering it again.
                tracing::error!(message_id = %id, "message failed on its last allowed receive; it goes to the dead-letter queue");
                crate::telemetry::metrics::dead_lettered();
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// SQS's `ApproximateReceiveCount` of this delivery (1 the first time).
fn receive_count(message: &SqsMessage) -> Option<u32> {
    message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok())
}

/// Whether a message that failed this delivery has used up the queue's `maxReceiveCount`.
/// Unknown when either count is missing: then it is not counted.
fn is_last_receive(received: Option<u32>, max_receive_count: Option<u32>) -> bool {
    matches!((received, max_receive_count), (Some(received), Some(max)) if received >= max)
}

async fn handle_one(handler: &dyn SqsHandler, app: App, message: SqsMessage) -> bool {
    let span = tracing::info_span!(
        "sqs",
        message_id = message.message_id.as_deref().unwrap_or("-"),
        org = tracing::field::Empty
    );
    async move {
        match handler.call(app.clone(), message.clone()).await {
            Ok(()) => true,
            Err(MessageError::Retry(err)) => {
                tracing::warn!(error = format!("{err:#}"), "message failed; SQS will redeliver it");
                false
            }
            Err(MessageError::Reject(reason)) => set_aside(&app, &message, &reason).await,
        }
    }
    .instrument(span)
    .await
}

/// Copies a rejected message to the dead-letter queue with its reason; `true` once it is safe
/// to acknowledge the original.
async fn set_aside(app: &App, message: &SqsMessage, reason: &str) -> bool {
    tracing::error!(reason, "message rejected; moving it to the dead-letter queue");
    let Some(dlq) = app.config.dead_letter_queue_url.as_deref() else {
        tracing::warn!("no DEAD_LETTER_QUEUE_URL configured; leaving the message to SQS redrive");
        return false;
    };
    let attribute = |value: &str| {
        aws_sdk_sqs::types::MessageAttributeValue::builder().data_type("String").string_value(value).build()
    };
    let mut send = app.sqs().send_message().queue_url(dlq).message_body(message.body.clone().unwrap_or_default());
    if dlq.ends_with(".fifo") {
        let id = message.message_id.clone().unwrap_or_default();
        send = send.message_group_id("rejected").message_deduplication_id(id);
    }
    for (name, value) in
        [("rejection_reason", reason), ("original_message_id", message.message_id.as_deref().unwrap_or("-"))]
    {
        match attribute(value) {
            Ok(value) => send = send.message_attributes(name, value),
            Err(err) => tracing::warn!(error = %err, "could not attach {name}"),
        }
    }
    match send.send().await {
        Ok(_) => {
            crate::telemetry::metrics::dead_lettered();
            true
        }
        Err(err) => {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "could not reach the dead-letter queue; SQS will redeliver");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::*;

    fn app(max_receive_count: Option<&str>) -> App {
        let aws = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let config = crate::config::Config::from_lookup(|k| match k {
            "BILLING_TABLE" => Some("t".to_owned()),
            "MAX_RECEIVE_COUNT" => max_receive_count.map(str::to_owned),
            _ => None,
        })
        .unwrap();
        App::new(config, &aws, Arc::new(crate::clock::SystemClock))
    }

    /// Messages `(id, ApproximateReceiveCount)` from a standard or FIFO queue.
    fn batch(queue: &str, messages: &[(&str, u32)]) -> SqsEvent {
        let records: Vec<_> = messages
            .iter()
            .map(|(id, received)| {
                serde_json::json!({ "messageId": id, "body": id,
                                    "eventSourceARN": format!("arn:aws:sqs:us-east-1:1:{queue}"),
                                    "attributes": { "ApproximateReceiveCount": received.to_string() },
                                    "messageAttributes": {} })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    /// Runs the batch (messages whose body starts with "bad" fail) and returns the failures
    /// reported and the `DeadLettered` count.
    async fn run(app: App, event: SqsEvent) -> (Vec<String>, u64) {
        let handler = |_app: App, message: SqsMessage| async move {
            match message.body.as_deref() {
                Some(body) if body.starts_with("bad") => Err(MessageError::Retry(anyhow::anyhow!("down"))),
                _ => Ok(()),
            }
        };
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let response = {
            // The test runtime polls everything on this thread, where the recorder is set.
            let _local = metrics::set_default_local_recorder(&recorder);
            handle_batch(&handler, app, event).await
        };
        let failed = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        let dead = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| key.key().name() == crate::telemetry::metrics::DEAD_LETTERED)
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => n,
                other => panic!("DeadLettered is a counter, not {other:?}"),
            })
            .sum();
        (failed, dead)
    }

    #[tokio::test]
    async fn a_message_failing_on_its_last_allowed_receive_counts_as_dead_lettered() {
        let event = batch("usage", &[("bad-last", 5), ("bad-again", 4), ("good-last", 5)]);
        let (failed, dead) = run(app(Some("5")), event).await;
        assert_eq!(failed, ["bad-last", "bad-again"], "both failures are redelivered or moved by SQS");
        assert_eq!(dead, 1, "only the one SQS moves to the dead-letter queue now");
    }

    #[tokio::test]
    async fn on_a_fifo_queue_the_messages_held_back_behind_a_failure_count_too_on_their_last_receive() {
        let event = batch("stripe.fifo", &[("bad", 2), ("held-last", 3), ("held", 1)]);
        let (failed, dead) = run(app(Some("3")), event).await;
        assert_eq!(failed, ["bad", "held-last", "held"]);
        assert_eq!(dead, 1);
    }

    #[tokio::test]
    async fn without_the_queue_s_max_receive_count_nothing_is_counted() {
        let (failed, dead) = run(app(None), batch("usage", &[("bad", 99)])).await;
        assert_eq!((failed.len(), dead), (1, 0));
    }
}
