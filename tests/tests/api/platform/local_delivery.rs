//! End to end through the local stand-ins for AWS delivery: a message on the real usage queue
//! is pumped into the consumer, its domain event crosses the bus through the template's rule
//! to the notifier, and the notifier publishes to the notification topic.

use std::time::{Duration, Instant};

use billing_tests::{TestContext, template};
use serde_json::json;

#[tokio::test]
async fn a_usage_message_flows_from_the_queue_to_a_notification() {
    let ctx = TestContext::with_messaging(&[]).await;
    let resources = ctx.resources.clone().unwrap();
    let (sqs, sns) = (aws_sdk_sqs::Client::new(&ctx.aws), aws_sdk_sns::Client::new(&ctx.aws));
    // Whatever the topic sends lands in this queue (an e-mail inbox stand-in).
    let inbox = sqs.create_queue().queue_name(format!("{}-inbox", ctx.prefix)).send().await.unwrap().queue_url.unwrap();
    let inbox_arn = local_server::provision::queue_arn(&sqs, &inbox).await.unwrap();
    sns.subscribe()
        .topic_arn(&resources.topic_arns["NotificationTopic"])
        .protocol("sqs")
        .endpoint(inbox_arn)
        .send()
        .await
        .unwrap();
    local_server::pump::start_all(&ctx.app, &ctx.aws, template(), &resources, &ctx.prefix).await.unwrap();

    let message = json!({
        "type": "llm_call", "event_id": "e2e-1", "organization_id": "flow", "provider": "openai", "model": "gpt-4o",
        "prompt_tokens": 1000, "completion_tokens": 100, "payer": "platform", "recorded_at": "2026-11-23T09:00:00Z"
    });
    sqs.send_message()
        .queue_url(&resources.queue_urls["UsageQueue"])
        .message_body(message.to_string())
        .send()
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let notification = loop {
        assert!(Instant::now() < deadline, "no notification arrived");
        let got = sqs
            .receive_message()
            .queue_url(&inbox)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if let Some(m) = got.into_iter().next() {
            break m.body.unwrap_or_default();
        }
    };
    assert_eq!(ctx.items_with_prefix("COST#").await.len(), 1, "the consumer recorded the call");
    assert!(notification.contains("Billing: CostRecorded"), "{notification}");
    assert!(notification.contains("flow: LLM call on openai/gpt-4o cost $0.0035"), "{notification}");
}

#[tokio::test]
async fn a_suspension_travels_from_the_stripe_queue_through_the_outbox_stream_to_a_notification() {
    let ctx = TestContext::with_messaging(&[]).await;
    let resources = ctx.resources.clone().unwrap();
    let (sqs, sns) = (aws_sdk_sqs::Client::new(&ctx.aws), aws_sdk_sns::Client::new(&ctx.aws));
    let inbox = sqs.create_queue().queue_name(format!("{}-inbox", ctx.prefix)).send().await.unwrap().queue_url.unwrap();
    let inbox_arn = local_server::provision::queue_arn(&sqs, &inbox).await.unwrap();
    sns.subscribe()
        .topic_arn(&resources.topic_arns["NotificationTopic"])
        .protocol("sqs")
        .endpoint(inbox_arn)
        .send()
        .await
        .unwrap();
    ctx.account("streamed").await;
    let org = billing::ids::OrganizationId::parse("streamed").unwrap();
    ctx.app.store.link_customer(&org, "cus_streamed", None).await.unwrap();
    local_server::pump::start_all(&ctx.app, &ctx.aws, template(), &resources, &ctx.prefix).await.unwrap();

    for attempt in 1..=3 {
        let event = json!({ "id": format!("evt_s{attempt}"), "type": "invoice.payment_failed", "created": attempt,
            "data": { "object": { "id": "in_s", "customer": "cus_streamed", "attempt_count": attempt, "amount_due": 1_000 } } });
        sqs.send_message()
            .queue_url(&resources.queue_urls["StripeEventsQueue"])
            .message_body(event.to_string())
            .message_group_id("cus_streamed")
            .message_deduplication_id(format!("evt_s{attempt}"))
            .send()
            .await
            .unwrap();
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut subjects = Vec::new();
    while !subjects.iter().any(|s: &String| s.contains("Billing: AccountSuspended")) {
        assert!(Instant::now() < deadline, "no AccountSuspended notification arrived; got {subjects:?}");
        let got = sqs.receive_message().queue_url(&inbox).wait_time_seconds(1).send().await.unwrap();
        subjects.extend(got.messages.unwrap_or_default().into_iter().filter_map(|m| m.body));
    }
    assert_eq!(ctx.stored_account("streamed").await.status.as_str(), "suspended");
    let announced = ctx.items_with_prefix("OUTBOX#suspended-in_s-3").await;
    assert_eq!(announced.len(), 1, "the suspension was announced through the outbox");
}
