//! The redrive of a dead-letter queue back to its source, and the queue catalog it relies on.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use billing_tests::operators::{health, queue_url, send_to_queue, visible_by_queue};
use billing_tests::{TestContext, TestServer, template};
use serde_json::{Value, json};

async fn redrive(server: &TestServer, queue: &str, body: Option<Value>) -> billing_tests::Reply {
    let path = format!("/api/billing/admin/queues/{queue}/redrive");
    server.request("POST", &path, Some(&server.tokens.admin()), body).await
}

#[tokio::test]
async fn admin_redrive_moves_every_dead_letter_back_to_its_queue_exactly_once_and_is_audited() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    for i in 0..3 {
        send_to_queue(&ctx, "UsageDeadLetterQueue", &format!("dead-{i}"), None).await;
    }
    send_to_queue(&ctx, "UsageQueue", "live", None).await;

    // Refusals move nothing.
    let refused = redrive(&server, "usage-dlq", Some(json!({}))).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some("reason_required")), "{refused:?}");
    for unknown in ["NoSuchQueue", "UsageQueue"] {
        let refused = redrive(&server, unknown, Some(json!({ "reason": "x" }))).await;
        assert_eq!((refused.status, refused.json["code"].as_str()), (404, Some("unknown_queue")), "{refused:?}");
        assert!(refused.json["detail"].is_string());
    }
    // Records of failures (stream batches, asynchronous invocations) are read, never redelivered.
    for records in ["OutboxDeadLetterQueue", "async-failures"] {
        let refused = redrive(&server, records, Some(json!({ "reason": "x" }))).await;
        assert_eq!((refused.status, refused.json["code"].as_str()), (409, Some("not_redrivable")), "{refused:?}");
    }
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
    send_to_queue(&ctx, "StripeEventsDeadLetterQueue", "evt_1", Some("cus_a")).await;
    send_to_queue(&ctx, "StripeEventsDeadLetterQueue", "evt_2", Some("cus_b")).await;
    let moved = redrive(&server, "stripe-events-dlq", Some(json!({ "reason": "webhook bug fixed" }))).await;
    assert_eq!((moved.status, &moved.json["moved"]), (200, &json!(2)), "{moved:?}");
    let out = ctx
        .app
        .sqs()
        .receive_message()
        .queue_url(queue_url(&ctx, "StripeEventsQueue"))
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
