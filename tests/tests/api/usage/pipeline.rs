//! The usage queue's consumer: each message recorded once, poison messages dead-lettered, and a
//! commit through the queue the same as one over HTTP.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::quota::rules::RunKind;
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::usage::{deliver, llm_call};
use billing_tests::values::org;
use serde_json::json;

#[tokio::test]
async fn a_redelivered_message_is_recorded_once() {
    let ctx = TestContext::with_messaging(&[]).await;
    let body = llm_call("evt-1", "acme", "platform", "0.25");

    let first = deliver(&ctx, &[body.clone(), body.clone()]).await;
    let again = deliver(&ctx, &[body]).await;

    assert!(first.batch_item_failures.is_empty() && again.batch_item_failures.is_empty());
    assert_eq!(ctx.items_with_prefix("COST#").await.len(), 1);
    let aggregates = ctx.items_with_prefix("COSTAGG#").await;
    assert_eq!(aggregates[0]["records"].as_n().unwrap(), "1");
    // $0.25 cost, +20% margin.
    assert_eq!(ctx.app.store.month_billable(&org("acme"), "2026-11").await.unwrap(), 300_000);
}

#[tokio::test]
async fn poison_messages_go_to_the_dead_letter_queue_and_the_rest_of_the_batch_succeeds() {
    let ctx = TestContext::with_messaging(&[]).await;
    let batch = vec![
        "this is not json".to_owned(),
        json!({ "type": "teleport", "event_id": "e", "organization_id": "acme" }).to_string(),
        llm_call("good-1", "acme", "platform", "0.01"),
        json!({ "type": "run_failed", "event_id": "e2", "organization_id": "acme", "run_id": "never-reserved" }).to_string(),
        json!({ "type": "llm_call", "event_id": "e3", "organization_id": "acme", "provider": "acme", "model": "secret",
                "prompt_tokens": 1, "completion_tokens": 1, "payer": "platform", "recorded_at": "2026-11-23T09:00:00Z" }).to_string(),
        llm_call("good-2", "acme", "platform", "0.02"),
    ];

    let response = deliver(&ctx, &batch).await;

    assert!(response.batch_item_failures.is_empty(), "rejected messages are acknowledged, not retried");
    assert_eq!(ctx.items_with_prefix("COST#").await.len(), 2);
    let dead = ctx.drain_queue("UsageDeadLetterQueue").await;
    assert_eq!(dead.len(), 4);
    let reasons: Vec<String> = dead
        .iter()
        .map(|m| m.message_attributes.as_ref().unwrap()["rejection_reason"].string_value().unwrap().to_owned())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("not a usage message")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("no price for acme/secret")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("never-reserved")), "{reasons:?}");
}

#[tokio::test]
async fn committing_through_the_queue_and_through_http_give_the_same_result() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    for name in ["via-http", "via-queue"] {
        ctx.update_account(
            name,
            "SET free_remaining = :z, credit_balance_cents = :c",
            &[(":z", AttributeValue::N("0".into())), (":c", AttributeValue::N("5000".into()))],
        )
        .await;
        reserve(&ctx, name, "run-1", RunKind::Standard).await.unwrap();
    }

    let http = server
        .request(
            "POST",
            "/api/billing/internal/quota/via-http/reservations/run-1/commit",
            Some(&server.service_token()),
            Some(json!({ "actual_cost_usd": 7.25 })),
        )
        .await;
    assert_eq!(http.status, 201);
    let queued = json!({ "type": "run_completed", "event_id": "done-1", "organization_id": "via-queue", "run_id": "run-1", "actual_cost_usd": 7.25 });
    assert!(deliver(&ctx, &[queued.to_string()]).await.batch_item_failures.is_empty());

    let (a, b) = (ctx.stored_account("via-http").await, ctx.stored_account("via-queue").await);
    assert_eq!((a.credit_balance_cents, a.credit_held_cents, a.total_spent_cents), (4_275, 0, 725));
    assert_eq!((b.credit_balance_cents, b.credit_held_cents, b.total_spent_cents), (4_275, 0, 725));
    let usage = |org_name: &'static str| {
        let ctx = &ctx;
        async move {
            let page = ctx
                .app
                .store
                .list_usage(&org(org_name), None, &listing(), billing::costs::store::Order::OldestFirst)
                .await
                .unwrap();
            let mut record = page.items.into_iter().next().unwrap();
            record.id.clear();
            record.pk.clear();
            record.organization_id = org("x");
            record.billing_account_id.clear();
            // The unbilled index entry names the organization too.
            assert_eq!(record.unbilled_pk.take(), Some(format!("UNBILLED#{org_name}")));
            record
        }
    };
    assert_eq!(usage("via-http").await, usage("via-queue").await);
}

fn listing() -> billing::costs::store::Listing {
    billing::costs::store::Listing { from: None, to: None, limit: 100, cursor: None }
}
