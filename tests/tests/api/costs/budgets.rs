//! Monthly budgets: each threshold announced once, the hard cap blocking runs, calls on the
//! customer's own key never counted, and input validated.

use aws_sdk_dynamodb::types::AttributeValue;
use billing_tests::TestContext;
use billing_tests::usage::{deliver, llm_call};
use billing_tests::values::org;
use futures::future::join_all;
use serde_json::json;

#[tokio::test]
async fn each_budget_threshold_fires_once_under_concurrent_costs_and_the_hard_cap_blocks_runs() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let spy = ctx.event_spy().await;
    let token = server.tokens.owner("capped");
    let put = server
        .request(
            "PUT",
            "/api/billing/account/capped/budget",
            Some(&token),
            Some(json!({ "monthly_limit_usd": 1, "hard_cap": true })),
        )
        .await;
    assert_eq!(put.status, 200, "{put:?}");
    ctx.account("capped").await;

    // Twenty calls of $0.10 (billed $0.12 each) race past $0.80 and $1.00.
    let batches: Vec<Vec<String>> =
        (0..20).map(|i| vec![llm_call(&format!("c{i}"), "capped", "platform", "0.10")]).collect();
    let results = join_all(batches.iter().map(|b| deliver(&ctx, b))).await;
    assert!(results.iter().all(|r| r.batch_item_failures.is_empty()));
    // Announced through the outbox: written with the costs and marks, published by the stream.
    let mut outbox = ctx.outbox().await;
    ctx.drain_outbox(&mut outbox, &ctx.app).await;

    let events = spy.events().await;
    let count = |name: &str| events.iter().filter(|e| e.event.name() == name).count();
    assert_eq!((count("BudgetWarning"), count("BudgetExceeded"), count("CostRecorded")), (1, 1, 20));

    let refused = server
        .request(
            "POST",
            "/api/billing/internal/quota/capped/reservations",
            Some(&server.service_token()),
            Some(json!({ "run_id": "r", "kind": "standard" })),
        )
        .await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (402, Some("budget_exceeded")));
    let budget = server.get("/api/billing/account/capped/budget", Some(&token)).await;
    assert_eq!((&budget.json["blocked"], &budget.json["month_to_date_usd"]), (&json!(true), &json!(2.4)));

    // Raising the budget lifts the block at once.
    server
        .request(
            "PUT",
            "/api/billing/account/capped/budget",
            Some(&token),
            Some(json!({ "monthly_limit_usd": 50, "hard_cap": true })),
        )
        .await;
    let allowed = server
        .request(
            "POST",
            "/api/billing/internal/quota/capped/reservations",
            Some(&server.service_token()),
            Some(json!({ "run_id": "r", "kind": "standard" })),
        )
        .await;
    assert_eq!(allowed.status, 201, "{allowed:?}");
}

#[tokio::test]
async fn bring_your_own_key_calls_are_recorded_but_never_move_money() {
    let ctx = TestContext::with_messaging(&[]).await;
    ctx.update_account("byo", "SET credit_balance_cents = :c", &[(":c", AttributeValue::N("1000".into()))]).await;
    ctx.app
        .store
        .put_budget(
            &org("byo"),
            &billing::costs::rules::budget::Budget {
                monthly_limit_cents: 1,
                warn_at_percent: 50,
                hard_cap: true,
                updated_at: ctx.app.now(),
            },
            ctx.app.now(),
        )
        .await
        .unwrap();
    let spy = ctx.event_spy().await;

    let bodies: Vec<String> = (0..5).map(|i| llm_call(&format!("b{i}"), "byo", "customer_key", "3.0")).collect();
    assert!(deliver(&ctx, &bodies).await.batch_item_failures.is_empty());

    assert_eq!(ctx.items_with_prefix("COST#").await.len(), 5, "recorded for analytics");
    assert_eq!(ctx.app.store.month_billable(&org("byo"), "2026-11").await.unwrap(), 0);
    let account = ctx.stored_account("byo").await;
    assert_eq!((account.credit_balance_cents, account.budget_blocked_period), (1000, None));
    let mut outbox = ctx.outbox().await;
    ctx.drain_outbox(&mut outbox, &ctx.app).await;
    let events = spy.events().await;
    assert_eq!(events.len(), 5, "each call announced once: {events:?}");
    assert!(events.iter().all(|e| e.event.name() == "CostRecorded"), "no budget events: {events:?}");
}

#[tokio::test]
async fn budgets_validate_their_input() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let token = server.tokens.owner("b");
    for body in [
        json!({ "monthly_limit_usd": 0 }),
        json!({ "monthly_limit_usd": -5 }),
        json!({ "monthly_limit_usd": "100" }),
        json!({ "monthly_limit_usd": 100, "warn_at_percent": 0 }),
        json!({ "monthly_limit_usd": 100, "warn_at_percent": 101 }),
        json!({ "monthly_limit_usd": 100, "blocked": false }),
    ] {
        let reply = server.request("PUT", "/api/billing/account/b/budget", Some(&token), Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
    }
    let none = server.get("/api/billing/account/b/budget", Some(&token)).await;
    assert_eq!(
        none.json,
        json!({ "monthly_limit_usd": null, "warn_at_percent": 80, "hard_cap": false, "month_to_date_usd": 0.0, "blocked": false })
    );
}

#[tokio::test]
async fn costs_and_budget_thresholds_are_announced_exactly_once_though_put_events_fails() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let spy = ctx.event_spy().await;
    let token = server.tokens.owner("flaky");
    let put = server
        .request(
            "PUT",
            "/api/billing/account/flaky/budget",
            Some(&token),
            Some(json!({ "monthly_limit_usd": 1, "hard_cap": false })),
        )
        .await;
    assert_eq!(put.status, 200, "{put:?}");
    ctx.account("flaky").await;

    // Ten calls of $0.10 (billed $0.12 each) cross the warning and the limit; each message is
    // delivered twice, as SQS may.
    let bodies: Vec<String> = (0..10).map(|i| llm_call(&format!("f{i}"), "flaky", "platform", "0.10")).collect();
    for body in bodies.iter().chain(bodies.iter()) {
        assert!(deliver(&ctx, std::slice::from_ref(body)).await.batch_item_failures.is_empty());
    }
    // The consumer never called PutEvents: each announcement waits in the outbox, written with
    // the change it announces.
    assert_eq!(ctx.outbox_events("CostRecorded").await, 10);
    assert_eq!((ctx.outbox_events("BudgetWarning").await, ctx.outbox_events("BudgetExceeded").await), (1, 1));

    // The stream's publisher fails its first three PutEvents calls; the stream retries them.
    let (failing, injector) = ctx.with_failing_put_events(3);
    let mut outbox = ctx.outbox().await;
    let passes = ctx.drain_outbox(&mut outbox, &failing).await;
    assert_eq!(injector.injected(), 3, "{passes:?}");

    let events = spy.events().await;
    let ids = |name: &str| -> std::collections::BTreeSet<String> {
        events.iter().filter(|e| e.event.name() == name).map(|e| e.id.clone()).collect()
    };
    assert_eq!(ids("CostRecorded"), (0..10).map(|i| format!("cost-f{i}")).collect());
    let month = "2026-11"; // the calls' month
    assert_eq!(ids("BudgetWarning"), [format!("budget-flaky-{month}-warning")].into());
    assert_eq!(ids("BudgetExceeded"), [format!("budget-flaky-{month}-exceeded")].into());
}
