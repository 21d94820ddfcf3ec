//! Scheduled jobs (EventBridge Scheduler or rules). A failure is returned to Lambda so the
//! scheduler's retry policy applies; jobs must therefore be safe to run twice.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use lambda_runtime::{LambdaEvent, service_fn};
use tracing::Instrument;

use crate::App;

/// Whatever the schedule sends: EventBridge Scheduler passes its `Input` verbatim (an
/// EventBridge-shaped event from rules), so jobs take plain JSON and read what they need.
pub type ScheduleEvent = serde_json::Value;

pub trait ScheduleHandler: Send + Sync + 'static {
    fn call(&self, app: App, event: ScheduleEvent) -> BoxFuture<'static, anyhow::Result<serde_json::Value>>;
}

impl<F, Fut> ScheduleHandler for F
where
    F: Fn(App, ScheduleEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<serde_json::Value>> + Send + 'static,
{
    fn call(&self, app: App, event: ScheduleEvent) -> BoxFuture<'static, anyhow::Result<serde_json::Value>> {
        Box::pin(self(app, event))
    }
}

pub async fn run_schedule(handler: impl ScheduleHandler) -> Result<(), lambda_runtime::Error> {
    let app = super::init().await?;
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ScheduleEvent>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move { handle_schedule(handler.as_ref(), app, event.payload).await.map_err(lambda_runtime::Error::from) }
    }))
    .await
}

/// Runs one scheduled invocation; the returned JSON summarises what the job did.
pub async fn handle_schedule(
    handler: &dyn ScheduleHandler,
    app: App,
    event: ScheduleEvent,
) -> anyhow::Result<serde_json::Value> {
    let job = event.get("job").and_then(|j| j.as_str()).unwrap_or("-").to_owned();
    let span = tracing::info_span!("schedule", job);
    async move {
        let summary = handler.call(app, event).await;
        match &summary {
            Ok(summary) => tracing::info!(%summary, "scheduled job finished"),
            Err(err) => tracing::error!(error = format!("{err:#}"), "scheduled job failed"),
        }
        summary
    }
    .instrument(span)
    .await
}
