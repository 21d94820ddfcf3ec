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

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Try again later (a dependency failed, the account was busy).
    #[error("{0:#}")]
    Retry(#[from] anyhow::Error),
    /// This message can never be processed (malformed, refers to nothing).
    #[error("rejected: {0}")]
    Reject(String),
}

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
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { Ok::<_, std::convert::Infallible>(handle_batch(handler.as_ref(), app, event.payload).await) }
    }))
    .await
}

pub async fn handle_batch(handler: &dyn SqsHandler, app: App, event: SqsEvent) -> SqsBatchResponse {
    let fifo =
        event.records.first().and_then(|m| m.event_source_arn.as_deref()).is_some_and(|arn| arn.ends_with(".fifo"));
    let mut failed: Vec<String> = Vec::new();
    if fifo {
        let mut blocked = false;
        for message in event.records {
            let id = message.message_id.clone().unwrap_or_default();
            if blocked || !handle_one(handler, app.clone(), message).await {
                blocked = true;
                failed.push(id);
            }
        }
    } else {
        let outcomes = futures::future::join_all(event.records.into_iter().map(|message| {
            let id = message.message_id.clone().unwrap_or_default();
            let app = app.clone();
            async move { (id, handle_one(handler, app, message).await) }
        }))
        .await;
        failed.extend(outcomes.into_iter().filter(|(_, ok)| !ok).map(|(id, _)| id));
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
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
    let mut send = app.sqs.send_message().queue_url(dlq).message_body(message.body.clone().unwrap_or_default());
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
        Ok(_) => true,
        Err(err) => {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "could not reach the dead-letter queue; SQS will redeliver");
            false
        }
    }
}
