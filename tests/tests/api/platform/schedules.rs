//! Every scheduled job records its last run (`SCHEDULE#<job>` / `LASTRUN`): when, how it
//! ended, its summary or its error; a failure keeps the time of the last success.

use billing::lambda::schedule::handle_schedule;
use billing::operators::store::schedules::MAX_ERROR_BYTES;
use billing_tests::TestContext;
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn each_scheduled_run_records_its_last_run_and_a_failure_keeps_the_time_of_the_last_success() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let first_at = ctx.app.now();

    let ok = server.request("POST", "/_local/schedules/cron-overdue-invoices", None, None).await;

    assert_eq!(ok.status, 200, "{ok:?}");
    let run = ctx.app.store.last_schedule_run("cron-overdue-invoices").await.unwrap().expect("recorded");
    assert_eq!((run.job.as_str(), run.outcome.as_str()), ("cron-overdue-invoices", "ok"));
    assert_eq!((run.started_at, run.finished_at, run.last_ok_at), (first_at, first_at, Some(first_at)));
    let summary: serde_json::Value = serde_json::from_str(run.summary.as_deref().unwrap()).unwrap();
    assert_eq!(summary, ok.json, "the job's own summary");
    assert_eq!(run.error, None);

    // The close job without its queue fails; its record says why.
    ctx.clock.advance(Duration::minutes(5));
    let failed = server.request("POST", "/_local/schedules/cron-monthly-close", None, None).await;
    assert_eq!(failed.status, 500, "{failed:?}");
    let run = ctx.app.store.last_schedule_run("cron-monthly-close").await.unwrap().expect("recorded");
    assert_eq!((run.outcome.as_str(), run.last_ok_at, run.summary), ("error", None, None));
    assert!(run.error.as_deref().unwrap().contains("ACCOUNT_CLOSE_QUEUE_URL"), "{:?}", run.error);

    // A later failure of the overdue job: a long error is cut, the last success stays.
    ctx.clock.advance(Duration::minutes(5));
    let failing = |_app: billing::App, _event: serde_json::Value| async {
        Err::<serde_json::Value, _>(anyhow::anyhow!("{}", "DynamoDB was unreachable. ".repeat(200)))
    };
    let result = handle_schedule(&failing, ctx.app.clone(), json!({ "job": "cron-overdue-invoices" })).await;
    assert!(result.is_err(), "the job's failure still reaches the scheduler");
    let run = ctx.app.store.last_schedule_run("cron-overdue-invoices").await.unwrap().expect("recorded");
    assert_eq!((run.outcome.as_str(), run.started_at, run.summary), ("error", ctx.app.now(), None));
    assert_eq!(run.last_ok_at, Some(first_at), "the last success is kept");
    let error = run.error.unwrap();
    assert!(error.len() <= MAX_ERROR_BYTES && error.starts_with("DynamoDB was unreachable."), "{error}");

    // An event without a job (a rule's event to a subscriber) leaves no record.
    let event = json!({ "detail-type": "InvoicePaid", "source": "billing", "detail": {} });
    let subscriber = |_app: billing::App, _event: serde_json::Value| async { Ok(json!({ "notified": true })) };
    handle_schedule(&subscriber, ctx.app.clone(), event).await.unwrap();
    let records = ctx.all_items().await;
    let jobs: std::collections::BTreeSet<&str> =
        records.iter().filter_map(|i| i["PK"].as_s().ok()?.strip_prefix("SCHEDULE#")).collect();
    assert_eq!(jobs, ["cron-monthly-close", "cron-overdue-invoices"].into());
}
