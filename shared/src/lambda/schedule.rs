//! Scheduled jobs (EventBridge Scheduler or rules). A failure is returned to Lambda so the
//! scheduler's retry policy applies; jobs must therefore be safe to run twice.
//!
//! A schedule names its job in its input (`{"job": "<binary name>"}`, the template's
//! `Input`; the local server sends the same). Every such run leaves its last-run record
//! (`store::schedules`): start, end, outcome and summary or error. Events from EventBridge
//! rules (the notifier's) carry no job and leave none.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use lambda_runtime::{LambdaEvent, service_fn};
use tracing::Instrument;

use crate::App;
use crate::operators::store::schedules::RunOutcome;

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
    // Boxed, as in every runner, for the reason `invocation` boxes its work: the compiler's
    // layout queries overflow on a function built alone otherwise.
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<ScheduleEvent>| {
        let (app, handler) = (app.clone(), handler.clone());
        async move {
            super::invocation(handle_schedule(handler.as_ref(), app, event.payload))
                .await
                .map_err(lambda_runtime::Error::from)
        }
    })))
    .await
}

/// Runs one scheduled invocation; the returned JSON summarises what the job did. A job named
/// in the event gets its last run recorded.
pub async fn handle_schedule(
    handler: &dyn ScheduleHandler,
    app: App,
    event: ScheduleEvent,
) -> anyhow::Result<serde_json::Value> {
    let job = event.get("job").and_then(|j| j.as_str()).map(str::to_owned);
    let span = tracing::info_span!("schedule", job = job.as_deref().unwrap_or("-"));
    async move {
        let started_at = app.now();
        let summary = handler.call(app.clone(), event).await;
        let outcome = match &summary {
            Ok(summary) => {
                tracing::info!(%summary, "scheduled job finished");
                RunOutcome::Ok(summary.clone())
            }
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), "scheduled job failed");
                RunOutcome::Error(format!("{err:#}"))
            }
        };
        if let Some(job) = &job {
            record_last_run(&app, job, started_at, &outcome).await;
        }
        summary
    }
    .instrument(span)
    .await
}

/// Writes the job's last-run record. A failure to record is logged and leaves the job's own
/// result as it was: the record is for people, the job's outcome is for the scheduler.
async fn record_last_run(app: &App, job: &str, started_at: chrono::DateTime<chrono::Utc>, outcome: &RunOutcome) {
    if !crate::ids::is_safe_id(job) {
        tracing::warn!(job, "the schedule's job name is not a valid key; its run is not recorded");
        return;
    }
    if let Err(err) = app.store.record_schedule_run(job, started_at, app.now(), outcome).await {
        tracing::warn!(job, error = %err, "could not record the scheduled job's last run");
    }
}
