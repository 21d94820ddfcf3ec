//! SQS consumers with partial batch failure responses.
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

pub trait SqsHandler: Send + Sync + 'static {
    fn call(&self, app: App, message: SqsMessage) -> BoxFuture<'static, anyhow::Result<()>>;
}

impl<F, Fut> SqsHandler for F
where
    F: Fn(App, SqsMessage) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    fn call(&self, app: App, message: SqsMessage) -> BoxFuture<'static, anyhow::Result<()>> {
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
        match handler.call(app, message).await {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "message failed; SQS will redeliver it");
                false
            }
        }
    }
    .instrument(span)
    .await
}
