//! Operators' health view: figures from real (moto) queues, the last schedule runs, Stripe and
//! the table.

use std::collections::BTreeMap;

use billing_tests::operators::{health, send_to_queue, visible_by_queue};
use billing_tests::{TestContext, template};
use serde_json::{Value, json};

/// A datapoint of `AWS/SQS ApproximateAgeOfOldestMessage`, put into the emulator's CloudWatch
/// as SQS would publish it.
async fn put_oldest_age(queue: &str, seconds: u32, at: chrono::DateTime<chrono::Utc>) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_CLOUDWATCH").expect("the stack sets the CloudWatch endpoint");
    let body = json!({ "Namespace": "AWS/SQS", "MetricData": [{
        "MetricName": "ApproximateAgeOfOldestMessage", "Dimensions": [{ "Name": "QueueName", "Value": queue }],
        "Timestamp": at.timestamp(), "Value": seconds, "Unit": "Seconds" }] });
    let reply = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "GraniteServiceVersion20100801.PutMetricData")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0")
        .body(body.to_string())
        .send()
        .await
        .expect("moto answers");
    assert!(reply.status().is_success(), "{:?}", reply.text().await);
}

#[tokio::test]
async fn admin_health_reports_what_the_queues_hold_the_last_schedule_runs_stripe_and_the_table() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    // Nothing yet: every queue of the catalog is there and empty, no schedule has run.
    let empty = health(&server).await;
    let names: Vec<&str> = billing::operators::rules::queues::QUEUES.iter().map(|q| q.name).collect();
    assert_eq!(visible_by_queue(&empty).into_keys().collect::<Vec<_>>(), {
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted
    });
    assert!(visible_by_queue(&empty).values().all(|v| *v == 0), "{empty}");
    assert!(empty["schedules"].as_array().unwrap().iter().all(|s| s["outcome"] == "never"), "{empty}");
    assert!(empty["queues"].as_array().unwrap().iter().all(|q| q["oldest_message_age_seconds"].is_null()));

    for i in 0..3 {
        send_to_queue(&ctx, "UsageQueue", &format!("usage-{i}"), None).await;
    }
    send_to_queue(&ctx, "UsageDeadLetterQueue", "dead-usage-1", None).await;
    send_to_queue(&ctx, "UsageDeadLetterQueue", "dead-usage-2", None).await;
    send_to_queue(&ctx, "StripeEventsDeadLetterQueue", "dead-stripe", Some("cus_1")).await;
    send_to_queue(&ctx, "OutboxDeadLetterQueue", "stream-batch", None).await;
    let at = ctx.app.now();
    let store = &ctx.app.store;
    use billing::operators::store::schedules::RunOutcome;
    store.record_schedule_run("cron-expire-holds", at, at, &RunOutcome::Ok(json!({ "released": 2 }))).await.unwrap();
    store.record_schedule_run("cron-overdue-invoices", at, at, &RunOutcome::Error("boom".into())).await.unwrap();

    // CloudWatch's oldest-message age of the usage queue, a minute ago (SQS publishes it).
    let usage_url = &ctx.app.config.queue_urls["UsageQueue"];
    let usage_name = billing::operators::rules::queues::queue_name(usage_url).unwrap();
    put_oldest_age(usage_name, 42, ctx.app.now() - chrono::Duration::minutes(1)).await;

    let seen = health(&server).await;
    let ages: BTreeMap<&str, &Value> = seen["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["name"].as_str().unwrap(), &q["oldest_message_age_seconds"]))
        .collect();
    assert_eq!(ages["UsageQueue"], &json!(42), "{seen}");
    assert!(ages.iter().filter(|(name, _)| **name != "UsageQueue").all(|(_, age)| age.is_null()), "{seen}");
    let expected: BTreeMap<String, i64> = [
        ("AccountCloseDeadLetterQueue", 0),
        ("AccountCloseQueue", 0),
        ("AsyncFailuresQueue", 0),
        ("OutboxDeadLetterQueue", 1),
        ("StripeEventsDeadLetterQueue", 1),
        ("StripeEventsQueue", 0),
        ("UsageDeadLetterQueue", 2),
        ("UsageQueue", 3),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(visible_by_queue(&seen), expected, "{seen}");
    let usage_dlq = seen["queues"].as_array().unwrap().iter().find(|q| q["name"] == "UsageDeadLetterQueue").unwrap();
    assert_eq!((&usage_dlq["alias"], &usage_dlq["dead_letter_queue"]), (&json!("usage-dlq"), &json!(true)));
    // Where each queue's messages can be sent back: only a consumer's dead letters go anywhere.
    let redrives_to: BTreeMap<&str, &Value> =
        seen["queues"].as_array().unwrap().iter().map(|q| (q["name"].as_str().unwrap(), &q["redrives_to"])).collect();
    assert_eq!(redrives_to["UsageDeadLetterQueue"], &json!("UsageQueue"));
    assert_eq!(redrives_to["StripeEventsDeadLetterQueue"], &json!("StripeEventsQueue"));
    for records in ["OutboxDeadLetterQueue", "AsyncFailuresQueue", "UsageQueue"] {
        assert!(redrives_to[records].is_null(), "{records}: {seen}");
    }

    let schedules: BTreeMap<&str, &Value> =
        seen["schedules"].as_array().unwrap().iter().map(|s| (s["job"].as_str().unwrap(), s)).collect();
    assert_eq!(schedules["cron-expire-holds"]["outcome"], "ok");
    assert_eq!(
        (&schedules["cron-overdue-invoices"]["outcome"], &schedules["cron-overdue-invoices"]["error"]),
        (&json!("error"), &json!("boom"))
    );
    assert_eq!(schedules["cron-monthly-close"]["outcome"], "never");
    // Every schedule of the template is watched.
    let mut jobs: Vec<String> = template()
        .functions()
        .unwrap()
        .into_iter()
        .flat_map(|f| f.schedules.into_iter().map(|s| s.input["job"].as_str().unwrap_or_default().to_owned()))
        .collect();
    jobs.sort();
    assert_eq!(
        jobs,
        billing::operators::flow::health::SCHEDULED_JOBS.iter().map(|j| j.to_string()).collect::<Vec<_>>()
    );

    assert_eq!(seen["table"]["status"], "ACTIVE", "{seen}");
    // No Stripe key in this context.
    assert_eq!(seen["stripe"], json!({ "status": "not_configured", "latency_ms": null, "error": null }));
    let member = server.tokens.member("demo");
    assert_eq!(server.get("/api/billing/admin/health", Some(&member)).await.status, 403);
}

#[tokio::test]
async fn admin_health_reaches_stripe_with_its_key_and_reports_it_unreachable_otherwise() {
    let stripe_base = std::env::var("STRIPE_API_BASE").expect("the stack sets STRIPE_API_BASE (stripe-mock)");
    let ctx = TestContext::with_env(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", &stripe_base)]).await;
    let seen = health(&ctx.serve().await).await;
    assert_eq!(seen["stripe"]["status"], "ok", "{seen}");
    assert!(seen["stripe"]["latency_ms"].as_u64().is_some(), "{seen}");

    // Nothing listens on port 9 of the loopback.
    let ctx =
        TestContext::with_env(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", "http://127.0.0.1:9")]).await;
    let seen = health(&ctx.serve().await).await;
    assert_eq!(seen["stripe"]["status"], "unreachable", "{seen}");
    assert!(seen["stripe"]["error"].is_string(), "{seen}");
}
