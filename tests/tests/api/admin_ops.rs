//! Operators' system view: health figures from real (moto) queues, and the redrive of a
//! dead-letter queue back to its source.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};
use billing_tests::{TestContext, TestServer, template};
use serde_json::{Value, json};

fn url(ctx: &TestContext, queue: &str) -> String {
    ctx.resources.as_ref().expect("with_messaging").queue_urls[queue].clone()
}

async fn send(ctx: &TestContext, queue: &str, body: &str, group: Option<&str>) {
    let mut request = ctx.app.sqs().send_message().queue_url(url(ctx, queue)).message_body(body).message_attributes(
        "origin",
        MessageAttributeValue::builder().data_type("String").string_value(format!("{body}-origin")).build().unwrap(),
    );
    if let Some(group) = group {
        request = request.message_group_id(group).message_deduplication_id(uuid::Uuid::new_v4().simple().to_string());
    }
    request.send().await.expect("send");
}

async fn health(server: &TestServer) -> Value {
    let reply = server.get("/api/billing/admin/health", Some(&server.tokens.admin())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json
}

fn visible_by_queue(health: &Value) -> BTreeMap<String, i64> {
    let queues = health["queues"].as_array().expect("queues");
    queues.iter().map(|q| (q["name"].as_str().unwrap().to_owned(), q["visible"].as_i64().expect("counted"))).collect()
}

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

async fn redrive(server: &TestServer, queue: &str, body: Option<Value>) -> billing_tests::Reply {
    let path = format!("/api/billing/admin/queues/{queue}/redrive");
    server.request("POST", &path, Some(&server.tokens.admin()), body).await
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
        send(&ctx, "UsageQueue", &format!("usage-{i}"), None).await;
    }
    send(&ctx, "UsageDeadLetterQueue", "dead-usage-1", None).await;
    send(&ctx, "UsageDeadLetterQueue", "dead-usage-2", None).await;
    send(&ctx, "StripeEventsDeadLetterQueue", "dead-stripe", Some("cus_1")).await;
    send(&ctx, "OutboxDeadLetterQueue", "stream-batch", None).await;
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

#[tokio::test]
async fn admin_redrive_moves_every_dead_letter_back_to_its_queue_exactly_once_and_is_audited() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    for i in 0..3 {
        send(&ctx, "UsageDeadLetterQueue", &format!("dead-{i}"), None).await;
    }
    send(&ctx, "UsageQueue", "live", None).await;

    // Refusals move nothing.
    let refused = redrive(&server, "usage-dlq", Some(json!({}))).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some("reason_required")), "{refused:?}");
    for unknown in ["NoSuchQueue", "UsageQueue"] {
        let refused = redrive(&server, unknown, Some(json!({ "reason": "x" }))).await;
        assert_eq!((refused.status, refused.json["code"].as_str()), (404, Some("unknown_queue")), "{refused:?}");
        assert!(refused.json["detail"].is_string());
    }
    let refused = redrive(&server, "OutboxDeadLetterQueue", Some(json!({ "reason": "x" }))).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (409, Some("not_redrivable")), "{refused:?}");
    let owner = server.tokens.owner("demo");
    let path = "/api/billing/admin/queues/usage-dlq/redrive";
    assert_eq!(server.request("POST", path, Some(&owner), Some(json!({ "reason": "mine" }))).await.status, 403);
    assert_eq!(visible_by_queue(&health(&server).await)["UsageDeadLetterQueue"], 3);

    ctx.actions.take();
    let moved = redrive(&server, "UsageDeadLetterQueue", Some(json!({ "reason": "consumer fixed in v42" }))).await;
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(
        (
            &moved.json["queue"],
            &moved.json["source_queue"],
            &moved.json["moved"],
            &moved.json["failed"],
            &moved.json["capped"]
        ),
        (&json!("UsageDeadLetterQueue"), &json!("UsageQueue"), &json!(3), &json!(0), &json!(false))
    );
    // The audit entry needs only writes: what the function's policy grants.
    let granted = billing_tests::iam::granted_by("DynamoDBWritePolicy");
    let used = ctx.actions.take();
    assert!(used.iter().all(|a| granted.contains(&a.as_str())), "{used:?}");

    // Each dead letter is back once, with its attributes, beside the live message; none is left.
    let mut back: Vec<(String, Option<String>)> = ctx
        .drain_queue("UsageQueue")
        .await
        .into_iter()
        .map(|m| {
            let origin =
                m.message_attributes().and_then(|a| a.get("origin")).and_then(|v| v.string_value().map(str::to_owned));
            (m.body().unwrap_or_default().to_owned(), origin)
        })
        .collect();
    back.sort();
    let expected: Vec<(String, Option<String>)> =
        ["dead-0", "dead-1", "dead-2", "live"].iter().map(|b| (b.to_string(), Some(format!("{b}-origin")))).collect();
    assert_eq!(back, expected);
    assert!(ctx.drain_queue("UsageDeadLetterQueue").await.is_empty());
    let again = redrive(&server, "usage-dlq", Some(json!({ "reason": "again" }))).await;
    assert_eq!((again.status, &again.json["moved"]), (200, &json!(0)), "{again:?}");
    assert!(ctx.drain_queue("UsageQueue").await.is_empty(), "nothing is sent twice");

    // Audited under the queue: who, why, before and after, newest first.
    let entries = ctx.app.store.queue_audit("UsageDeadLetterQueue", 10).await.unwrap();
    assert_eq!(entries.len(), 2);
    let first = &entries[1];
    assert_eq!(
        (first.actor.as_str(), first.action.as_str(), first.reason.as_str()),
        ("admin", "queue_redriven", "consumer fixed in v42")
    );
    assert_eq!(first.id, moved.json["audit_id"].as_str().unwrap());
    assert_eq!(first.before, json!({ "visible": 3, "source_queue": "UsageQueue" }));
    assert_eq!(first.after, json!({ "moved": 3, "failed": 0, "capped": false }));
    assert_eq!(entries[0].after["moved"], 0);
    // And through the audit route, by the queue's alias.
    let trail = server.get("/api/billing/admin/audit?queue=usage-dlq", Some(&server.tokens.admin())).await;
    assert_eq!(trail.status, 200, "{trail:?}");
    let listed: Vec<_> = trail.json.as_array().unwrap().iter().map(|e| (e["id"].clone(), e["queue"].clone())).collect();
    assert_eq!(
        listed,
        [(json!(entries[0].id), json!("UsageDeadLetterQueue")), (json!(first.id), json!("UsageDeadLetterQueue"))]
    );
    let unknown = server.get("/api/billing/admin/audit?queue=nope", Some(&server.tokens.admin())).await;
    assert_eq!((unknown.status, unknown.json["code"].as_str()), (404, Some("unknown_queue")));
}

#[tokio::test]
async fn admin_redrive_of_a_fifo_dead_letter_queue_keeps_each_messages_group() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    send(&ctx, "StripeEventsDeadLetterQueue", "evt_1", Some("cus_a")).await;
    send(&ctx, "StripeEventsDeadLetterQueue", "evt_2", Some("cus_b")).await;
    let moved = redrive(&server, "stripe-events-dlq", Some(json!({ "reason": "webhook bug fixed" }))).await;
    assert_eq!((moved.status, &moved.json["moved"]), (200, &json!(2)), "{moved:?}");
    let out = ctx
        .app
        .sqs()
        .receive_message()
        .queue_url(url(&ctx, "StripeEventsQueue"))
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = out
        .messages()
        .iter()
        .map(|m| {
            let group = m.attributes().and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId)).cloned();
            (m.body().unwrap_or_default().to_owned(), group.unwrap_or_default())
        })
        .collect();
    got.sort();
    assert_eq!(got, [("evt_1".to_owned(), "cus_a".to_owned()), ("evt_2".to_owned(), "cus_b".to_owned())]);
    assert_eq!(visible_by_queue(&health(&server).await)["StripeEventsDeadLetterQueue"], 0);
}

#[test]
fn admin_queue_catalog_matches_the_templates_queues_and_redrive_policies() {
    use billing::operators::rules::queues::{DeadLetters, QUEUES, find};
    let queues = template().queues();
    let mut in_template: Vec<&str> = queues.iter().map(|q| q.logical_id.as_str()).collect();
    let mut in_catalog: Vec<&str> = QUEUES.iter().map(|q| q.name).collect();
    in_template.sort_unstable();
    in_catalog.sort_unstable();
    assert_eq!(in_catalog, in_template, "every queue of the template is watched");
    for queue in &queues {
        let def = find(&queue.logical_id).unwrap();
        assert_eq!(def.fifo, queue.fifo, "{}", queue.logical_id);
        // A queue's dead letters go back to it, and only to it.
        if let Some((dlq, _)) = &queue.redrive {
            assert_eq!(find(dlq).unwrap().dead_letters, Some(DeadLetters::From(def.name)), "{dlq}");
        }
    }
}
