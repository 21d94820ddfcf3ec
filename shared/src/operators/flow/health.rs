//! The operators' health view: queue depths and oldest-message ages, the last run of every
//! schedule, Stripe reachability and the table's status. A dependency that cannot be asked is reported as such
//! in its own entry, so one outage does not hide the rest; only the table's own last-run reads
//! fail the whole view.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;

use crate::App;
use crate::cloudwatch::MetricsReader;
use crate::operators::http::{HealthResponse, QueueHealth, ScheduleHealth, StripeHealth, TableHealth};
use crate::operators::rules::queues::{DeadLetters, QUEUES, queue_name};
use crate::store::StoreError;

/// Every scheduled job, by the binary name its schedule sends (`{"job": …}` in the template).
pub const SCHEDULED_JOBS: &[&str] = &["cron-expire-holds", "cron-monthly-close", "cron-overdue-invoices"];

/// How long the Stripe call may take before Stripe counts as unreachable.
pub const STRIPE_TIMEOUT: Duration = Duration::from_secs(3);

/// The view; `metrics` reads the queues' oldest-message ages from CloudWatch.
pub async fn health(app: &App, metrics: &MetricsReader) -> Result<HealthResponse, StoreError> {
    let (queues, schedules, stripe, table) =
        futures::join!(queues(app, metrics), schedules(app), stripe(app), table(app));
    Ok(HealthResponse { checked_at: app.now(), queues, schedules: schedules?, stripe, table })
}

async fn queues(app: &App, metrics: &MetricsReader) -> Vec<QueueHealth> {
    let configured: Vec<_> =
        QUEUES.iter().filter_map(|q| app.config.queue_urls.get(q.name).map(|url| (q, url))).collect();
    let names: Vec<String> = configured.iter().filter_map(|(_, url)| queue_name(url)).map(str::to_owned).collect();
    let depths = futures::future::join_all(configured.iter().map(|(q, url)| async move {
        let mut health = QueueHealth {
            name: q.name.to_owned(),
            alias: q.alias.to_owned(),
            dead_letter_queue: q.is_dead_letter_queue(),
            redrives_to: match q.dead_letters {
                Some(DeadLetters::From(source)) => Some(source.to_owned()),
                _ => None,
            },
            visible: None,
            in_flight: None,
            delayed: None,
            oldest_message_age_seconds: None,
            error: None,
        };
        match queue_depth(app, url).await {
            Ok([visible, in_flight, delayed]) => {
                (health.visible, health.in_flight, health.delayed) = (visible, in_flight, delayed);
            }
            Err(err) => {
                tracing::warn!(queue = q.name, error = %err, "queue attributes could not be read");
                health.error = Some(err);
            }
        }
        health
    }));
    let (mut queues, ages) = futures::join!(depths, metrics.oldest_message_ages(&names, app.now()));
    let ages = ages.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "the queues' oldest-message ages could not be read");
        Default::default()
    });
    for (health, (_, url)) in queues.iter_mut().zip(&configured) {
        health.oldest_message_age_seconds = queue_name(url).and_then(|name| ages.get(name).copied());
    }
    queues
}

/// Visible, in-flight and delayed counts.
async fn queue_depth(app: &App, url: &str) -> Result<[Option<i64>; 3], String> {
    use QueueAttributeName as A;
    let names = [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
        A::ApproximateNumberOfMessagesDelayed,
    ];
    let attributes = app
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .set_attribute_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?
        .attributes
        .unwrap_or_default();
    Ok(names.map(|name| attributes.get(&name).and_then(|v| v.parse().ok())))
}

async fn schedules(app: &App) -> Result<Vec<ScheduleHealth>, StoreError> {
    let runs = futures::future::try_join_all(SCHEDULED_JOBS.iter().map(|job| app.store.last_schedule_run(job))).await?;
    Ok(SCHEDULED_JOBS
        .iter()
        .zip(runs)
        .map(|(job, run)| match run {
            Some(run) => ScheduleHealth {
                job: (*job).to_owned(),
                outcome: run.outcome,
                started_at: Some(run.started_at),
                finished_at: Some(run.finished_at),
                last_ok_at: run.last_ok_at,
                error: run.error,
            },
            None => ScheduleHealth {
                job: (*job).to_owned(),
                outcome: "never".to_owned(),
                started_at: None,
                finished_at: None,
                last_ok_at: None,
                error: None,
            },
        })
        .collect())
}

async fn stripe(app: &App) -> StripeHealth {
    let Some(stripe) = app.stripe() else {
        return StripeHealth { status: "not_configured".to_owned(), latency_ms: None, error: None };
    };
    let started = Instant::now();
    let outcome = tokio::time::timeout(STRIPE_TIMEOUT, stripe.ping()).await;
    let latency_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    let error = match outcome {
        Ok(Ok(())) => return StripeHealth { status: "ok".to_owned(), latency_ms, error: None },
        Ok(Err(err)) => err.to_string(),
        Err(_) => format!("no answer within {} s", STRIPE_TIMEOUT.as_secs()),
    };
    tracing::warn!(error = %error, "Stripe is unreachable from the health check");
    StripeHealth { status: "unreachable".to_owned(), latency_ms, error: Some(error) }
}

async fn table(app: &App) -> TableHealth {
    match app.store.table_status().await {
        Ok(t) => TableHealth { status: t.status, item_count: t.item_count, size_bytes: t.size_bytes },
        Err(err) => {
            tracing::warn!(error = %err, "the table could not be described");
            TableHealth { status: "unreachable".to_owned(), item_count: None, size_bytes: None }
        }
    }
}
