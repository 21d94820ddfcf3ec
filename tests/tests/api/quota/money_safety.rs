//! Money safety of the quota engine beyond the happy path: a run is charged at most once
//! ever, periods only move forward, no item grows with load, the sweep costs what is due,
//! and a run that happened is never free. Plus the measured cost of a run.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::types::AttributeValue;
use billing::quota::rules::{Bucket, Outcome, RunKind};
use billing::quota::store::{QuotaError, SWEEP_INDEX, SWEEP_SHARDS};
use billing_tests::TestContext;
use billing_tests::capacity::item_size;
use billing_tests::quota::reserve;
use billing_tests::values::{n, org, s};
use chrono::{Duration, TimeZone, Utc};
use futures::future::join_all;
use serde_json::{Value, json};

async fn deliver(ctx: &TestContext, bodies: &[Value]) -> SqsBatchResponse {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({ "messageId": format!("m{i}"), "body": body.to_string(), "eventSourceARN": "arn:aws:sqs:us-east-1:0:usage" }))
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    billing::lambda::sqs::handle_batch(&sqs_usage_events::handle, ctx.app.clone(), event).await
}

async fn usage_items_of(ctx: &TestContext, run: &str) -> Vec<HashMap<String, AttributeValue>> {
    ctx.items_with_prefix("USAGE#").await.into_iter().filter(|u| u["run_id"].as_s().unwrap() == run).collect()
}

async fn raw_account(ctx: &TestContext, org_name: &str) -> HashMap<String, AttributeValue> {
    ctx.dynamo
        .get_item()
        .table_name(ctx.app.store.table())
        .key("PK", s(&format!("ORG#{org_name}")))
        .key("SK", s("ACCOUNT"))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

/// Every key in the sweep index, all shards.
async fn sweep_index(ctx: &TestContext) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for shard in 0..SWEEP_SHARDS {
        let page = ctx
            .dynamo
            .query()
            .table_name(ctx.app.store.table())
            .index_name(SWEEP_INDEX)
            .key_condition_expression("GSI3PK = :p")
            .expression_attribute_values(":p", s(&format!("SWEEP#{shard:02}")))
            .send()
            .await
            .unwrap();
        for item in page.items.unwrap_or_default() {
            keys.push((item["PK"].as_s().unwrap().clone(), item["SK"].as_s().unwrap().clone()));
        }
    }
    keys
}

#[tokio::test]
async fn a_run_settled_long_ago_is_never_charged_again_by_a_late_reserve_or_commit() {
    let ctx = TestContext::new().await;
    ctx.update_account("late", "SET tier = :t", &[(":t", s("pro"))]).await;
    reserve(&ctx, "late", "r1", RunKind::Standard).await.unwrap();
    let first = ctx.app.store.commit(&org("late"), "r1", None, false, None, ctx.app.now()).await.unwrap();
    // Long after, and after many other settlements.
    ctx.clock.advance(Duration::minutes(11));
    for i in 0..33 {
        reserve(&ctx, "late", format!("other-{i}"), RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org("late"), &format!("other-{i}"), None, false, None, ctx.app.now()).await.unwrap();
    }
    ctx.clock.advance(Duration::days(6));
    let before = ctx.stored_account("late").await;

    let again = reserve(&ctx, "late", "r1", RunKind::Standard).await;
    let late_commit = ctx.app.store.commit(&org("late"), "r1", None, false, None, ctx.app.now()).await.unwrap();

    assert!(
        matches!(again, Err(QuotaError::AlreadySettled { outcome: Outcome::Committed, .. })),
        "the original settlement answers: {again:?}"
    );
    assert_eq!((late_commit.created, &late_commit.usage.id), (false, &first.usage.id));
    let after = ctx.stored_account("late").await;
    assert!(after.holds.is_empty());
    assert_eq!(
        (after.free_remaining, after.free_period.clone(), after.period_used),
        (before.free_remaining, before.free_period, before.period_used)
    );
    assert_eq!(usage_items_of(&ctx, "r1").await.len(), 1);
}

#[tokio::test]
async fn a_second_hold_for_a_settled_run_is_given_back_and_the_first_settlement_answers() {
    let ctx = TestContext::new().await;
    ctx.update_account("dup", "SET credit_balance_cents = :c, free_remaining = :z", &[(":c", n(5_000)), (":z", n(0))])
        .await;
    reserve(&ctx, "dup", "r1", RunKind::Standard).await.unwrap();
    let first = ctx.app.store.commit(&org("dup"), "r1", Some(400), false, None, ctx.app.now()).await.unwrap();
    // A reserve that raced past the run record's read: a fresh hold of 10 credits for r1.
    let now = ctx.app.now();
    let duplicate = AttributeValue::M(HashMap::from([
        ("k".to_owned(), s("standard")),
        ("b".to_owned(), s("credits")),
        ("a".to_owned(), n(1_000)),
        ("c".to_owned(), n(now.timestamp_millis())),
        ("e".to_owned(), n(now.timestamp() + 1_800)),
        ("i".to_owned(), n(99)),
    ]));
    ctx.update_account(
        "dup",
        "SET holds.#r1 = :h, credit_balance_cents = credit_balance_cents - :a, credit_held_cents = credit_held_cents + :a",
        &[(":h", duplicate), (":a", n(1_000))],
    )
    .await;

    let retried = ctx.app.store.commit(&org("dup"), "r1", Some(900), false, None, ctx.app.now()).await.unwrap();

    assert_eq!((retried.created, retried.usage.id.clone(), retried.usage.charged_cents), (false, first.usage.id, 400));
    let account = ctx.stored_account("dup").await;
    assert!(account.holds.is_empty());
    assert_eq!((account.credit_balance_cents, account.credit_held_cents), (4_600, 0));
    assert_eq!(usage_items_of(&ctx, "r1").await.len(), 1);
    assert_eq!(ctx.items_with_prefix("LEDGER#").await.len(), 1);
}

#[tokio::test]
async fn the_free_period_never_moves_back_when_a_request_from_before_midnight_lands_after_it() {
    let ctx = TestContext::new().await;
    ctx.update_account("mono", "SET tier = :t", &[(":t", s("pro"))]).await;
    ctx.update_account("life", "SET tier = :t, usage_period = :p", &[(":t", s("lifetime")), (":p", s("2026-11"))])
        .await;
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 1).unwrap());
    let december = reserve(&ctx, "mono", "dec-1", RunKind::Standard).await.unwrap();
    assert_eq!(december.hold.period, "2026-12");
    // Lifetime: spend December's free runs so the next one counts against the plan.
    for i in 0..4 {
        reserve(&ctx, "life", format!("free-{i}"), RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org("life"), &format!("free-{i}"), None, false, None, ctx.app.now()).await.unwrap();
    }
    reserve(&ctx, "life", "free-4", RunKind::Standard).await.unwrap();
    let plan_run = reserve(&ctx, "life", "dec-plan", RunKind::Standard).await.unwrap();
    assert_eq!((plan_run.hold.bucket, plan_run.hold.period.as_str()), (Bucket::Subscription, "2026-12"));

    // A request whose clock still reads November 30, 23:59:59 (it started before midnight).
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap());
    let straddling = reserve(&ctx, "mono", "nov-late", RunKind::Standard).await.unwrap();
    let lifetime_late = reserve(&ctx, "life", "nov-late", RunKind::Standard).await.unwrap();

    assert_eq!(straddling.hold.period, "2026-12", "decided in the month the account is already in");
    let account = ctx.stored_account("mono").await;
    assert_eq!((account.free_period.as_str(), account.free_remaining), ("2026-12", 3));
    assert_eq!((lifetime_late.hold.bucket, lifetime_late.hold.period.as_str()), (Bucket::Subscription, "2026-12"));
    let life = ctx.stored_account("life").await;
    assert_eq!((life.usage_period.as_str(), life.period_used), ("2026-12", 2));
}

#[tokio::test]
async fn tiers_without_limits_keep_open_runs_out_of_the_account_item() {
    let ctx = TestContext::new().await;
    ctx.update_account("big", "SET tier = :t", &[(":t", s("enterprise"))]).await;
    reserve(&ctx, "big", "warm-up", RunKind::Standard).await.unwrap();
    let size_before = item_size(&raw_account(&ctx, "big").await);

    let granted = join_all((0..120).map(|i| reserve(&ctx, "big", format!("r{i}"), RunKind::Complex))).await;

    assert!(granted.iter().all(|r| matches!(r, Ok(r) if r.created && r.hold.bucket == Bucket::Unlimited)));
    assert_eq!(item_size(&raw_account(&ctx, "big").await), size_before, "the account item does not grow");
    assert!(ctx.stored_account("big").await.holds.is_empty());
    // A retried reserve of an open run answers with its hold.
    let again = reserve(&ctx, "big", "r7", RunKind::Complex).await.unwrap();
    assert!(!again.created);
    // Settle them every way: commit, release, heartbeat then expiry.
    let now = ctx.app.now();
    let store = &ctx.app.store;
    for i in 0..40 {
        assert!(store.commit(&org("big"), &format!("r{i}"), Some(250), false, None, now).await.unwrap().created);
    }
    for i in 40..80 {
        assert!(store.release(&org("big"), &format!("r{i}"), now).await.unwrap().created);
    }
    ctx.clock.advance(Duration::minutes(20));
    store.heartbeat(&org("big"), "r80", ctx.app.now(), ctx.app.hold_ttl()).await.unwrap();
    ctx.clock.advance(Duration::minutes(15));
    let swept = cron_expire_holds::handle(ctx.app.clone(), json!({})).await.unwrap();
    assert_eq!(swept["released"], 40, "{swept}");
    assert_eq!(swept["failed"], 0);
    assert_eq!(ctx.items_with_prefix("USAGE#").await.len(), 40);
    // Only the renewed run is still listed for the sweeper.
    let listed: Vec<String> = sweep_index(&ctx).await.into_iter().map(|(_, sk)| sk).collect();
    assert_eq!(listed, ["RUN#r80"]);
    let late = store.commit(&org("big"), "r50", None, false, None, ctx.app.now()).await;
    assert!(matches!(late, Err(QuotaError::AlreadySettled { outcome: Outcome::Released, .. })), "{late:?}");
}

#[tokio::test]
async fn the_sweep_reads_only_what_is_due_and_one_bad_item_does_not_stop_it() {
    let ctx = TestContext::new().await;
    // Twenty organizations that ran and finished: listed until the sweeper finds them empty.
    for i in 0..20 {
        let name = format!("done-{i}");
        reserve(&ctx, &name, "r", RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org(&name), "r", None, false, None, ctx.app.now()).await.unwrap();
    }
    ctx.clock.advance(Duration::minutes(31));
    let first = cron_expire_holds::handle(ctx.app.clone(), json!({})).await.unwrap();
    assert_eq!((first["due"].as_u64(), first["released"].as_u64()), (Some(20), Some(0)), "{first}");
    assert!(sweep_index(&ctx).await.is_empty(), "accounts with nothing to sweep leave the index");

    // Three crashed runs, one account item that no longer decodes, and twenty idle accounts.
    for i in 0..3 {
        reserve(&ctx, &format!("crashed-{i}"), "lost", RunKind::Standard).await.unwrap();
    }
    reserve(&ctx, "broken", "lost", RunKind::Standard).await.unwrap();
    ctx.update_account("broken", "SET free_remaining = :bad", &[(":bad", s("not a number"))]).await;
    ctx.clock.advance(Duration::minutes(31));
    ctx.calls.take();

    let second = cron_expire_holds::handle(ctx.app.clone(), json!({})).await.unwrap();

    assert_eq!(
        (second["due"].as_u64(), second["released"].as_u64(), second["failed"].as_u64()),
        (Some(4), Some(3), Some(1))
    );
    let calls = ctx.calls.take();
    assert_eq!(calls["Query"], SWEEP_SHARDS, "one query per shard, however many accounts exist");
    assert!(calls["GetItem"] <= 4 * 3, "reads follow the due entries, not the accounts: {calls:?}");
    for i in 0..3 {
        assert_eq!(ctx.stored_account(&format!("crashed-{i}")).await.free_remaining, 5);
    }
    assert_eq!(sweep_index(&ctx).await, [("ORG#broken".to_owned(), "ACCOUNT".to_owned())]);
}

#[tokio::test]
async fn a_queued_run_costing_more_than_its_hold_is_charged_never_free() {
    let ctx = TestContext::new().await;
    let no_overage = [(":c", n(5_000)), (":z", n(0))];
    ctx.update_account("capped", "SET credit_balance_cents = :c, free_remaining = :z", &no_overage).await;
    ctx.update_account(
        "payg",
        "SET tier = :t, has_payment_method = :pm, credit_balance_cents = :c, free_remaining = :z",
        &[(":t", s("pro")), (":pm", AttributeValue::Bool(true)), (":c", n(5_000)), (":z", n(0))],
    )
    .await;
    for name in ["capped", "payg"] {
        assert_eq!(reserve(&ctx, name, "big", RunKind::Standard).await.unwrap().hold.amount_cents, 1_000);
    }
    let message = |org: &str| json!({ "type": "run_completed", "event_id": format!("e-{org}"), "organization_id": org, "run_id": "big", "actual_cost_usd": 17.5 });

    let answer = deliver(&ctx, &[message("capped"), message("payg")]).await;

    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    let capped = ctx.app.store.commit(&org("capped"), "big", None, false, None, ctx.app.now()).await.unwrap().usage;
    assert_eq!((capped.charged_cents, capped.excess_cents, capped.capped_cents), (1_000, 0, 750));
    assert!(capped.cap_reason.as_deref().is_some_and(|r| r.contains("payment method")), "{:?}", capped.cap_reason);
    let payg = ctx.app.store.commit(&org("payg"), "big", None, false, None, ctx.app.now()).await.unwrap().usage;
    assert_eq!((payg.charged_cents, payg.excess_cents, payg.capped_cents, payg.billed), (1_000, 750, 0, false));
    for name in ["capped", "payg"] {
        let account = ctx.stored_account(name).await;
        assert_eq!((account.credit_balance_cents, account.credit_held_cents), (4_000, 0), "{name}");
    }
}

#[tokio::test]
async fn commit_details_that_cannot_be_kept_are_refused_over_http_and_never_make_a_queued_run_free() {
    let ctx = TestContext::new().await;
    ctx.update_account("det", "SET tier = :t", &[(":t", s("pro"))]).await;
    let server = ctx.serve().await;
    let token = server.service_token();
    for run in ["wide", "deep", "numbers", "queued"] {
        let reply = server
            .request(
                "POST",
                "/api/billing/internal/quota/det/reservations",
                Some(&token),
                Some(json!({ "run_id": run, "kind": "standard" })),
            )
            .await;
        assert_eq!(reply.status, 201);
        ctx.update_account("det", "SET free_remaining = :f", &[(":f", n(5))]).await;
    }
    let commit = |run: &str, details: Value| {
        let (server, token) = (&server, &token);
        let path = format!("/api/billing/internal/quota/det/reservations/{run}/commit");
        async move { server.request("POST", &path, Some(token), Some(json!({ "details": details }))).await }
    };
    let mut deep = json!("bottom");
    for _ in 0..40 {
        deep = json!({ "d": deep });
    }

    let wide = commit("wide", json!({ "log": "x".repeat(5_000) })).await;
    let too_deep = commit("deep", deep.clone()).await;
    let numbers = commit("numbers", json!({ "tokens": 123456789012345678901234567890_f64, "tiny": 1e-300 })).await;

    assert_eq!((wide.status, wide.json["code"].as_str()), (400, Some("invalid_details")), "{wide:?}");
    assert_eq!((too_deep.status, too_deep.json["code"].as_str()), (400, Some("invalid_details")));
    assert_eq!(numbers.status, 201, "{numbers:?}");
    assert_eq!(numbers.json["usage"]["usage_details"]["run"]["tiny"], 1e-300);
    let holds: Vec<String> = ctx.stored_account("det").await.holds.keys().cloned().collect();
    assert_eq!(holds, ["deep", "queued", "wide"], "refused commits change nothing");

    let queued = json!({ "type": "run_completed", "event_id": "q", "organization_id": "det", "run_id": "queued", "details": { "log": "x".repeat(5_000) } });
    assert!(deliver(&ctx, &[queued]).await.batch_item_failures.is_empty());
    let usage = usage_items_of(&ctx, "queued").await;
    assert_eq!(usage.len(), 1, "the run is recorded even though its details were not kept");
    assert!(usage[0]["details"].as_s().unwrap().contains("dropped"));
}

/// The figures the README states: account item size, and write units per run, measured with
/// `ReturnConsumedCapacity` (DynamoDB Local reports it like DynamoDB does).
#[tokio::test]
async fn a_busy_account_item_stays_under_a_kilobyte_and_a_run_writes_it_twice() {
    let ctx = TestContext::new().await;
    ctx.update_account(
        "busy",
        "SET tier = :t, stripe_customer_id = :cus, billing_email = :mail, has_payment_method = :pm, credit_balance_cents = :c",
        &[
            (":t", s("pro")),
            (":cus", s("cus_QxW3b8ZkL0mN2p")),
            (":mail", s("billing@example-company.com")),
            (":pm", AttributeValue::Bool(true)),
            (":c", n(250_000)),
        ],
    )
    .await;
    let run = |i: usize| format!("{}-{i:04}", uuid::Uuid::nil().to_string().get(..31).unwrap());
    reserve(&ctx, "busy", run(0), RunKind::Standard).await.unwrap();
    ctx.capacity.take();
    let second = reserve(&ctx, "busy", run(1), RunKind::Standard).await.unwrap();
    assert_eq!(second.hold.bucket, Bucket::Free);
    let reserve_units = ctx.capacity.take();
    reserve(&ctx, "busy", run(2), RunKind::Complex).await.unwrap();
    let three_holds = item_size(&raw_account(&ctx, "busy").await);
    ctx.capacity.take();
    ctx.app.store.commit(&org("busy"), &run(2), Some(700), false, None, ctx.app.now()).await.unwrap();
    let commit_units = ctx.capacity.take();

    println!("account item with 3 open holds: {three_holds} bytes");
    println!("reserve (account already indexed): {reserve_units:?}");
    println!("commit: {commit_units:?}");
    assert!(three_holds < 1024, "{three_holds} bytes");
    assert_eq!(reserve_units.write_units, 1.0, "one write unit on the account item");
    assert_eq!(reserve_units.index_units.get(SWEEP_INDEX).copied().unwrap_or(0.0), 0.0, "no index write");
    assert_eq!(reserve_units.failed_conditions, 0);
    // The account item is written once by the commit (plus the run record, and the usage
    // record with its day's run count: a transaction, so 2 units each instead of 1).
    assert_eq!(commit_units.operations.get("UpdateItem"), Some(&1));
    assert!(commit_units.write_units <= 6.0, "{commit_units:?}");

    // At the concurrency limit of the largest plan (team, 15 agents) with 64-character run ids.
    ctx.update_account("team", "SET tier = :t", &[(":t", s("team"))]).await;
    let long_run = |i: usize| format!("{}{i:04}", "r".repeat(60));
    for i in 0..14 {
        reserve(&ctx, "team", long_run(i), RunKind::Standard).await.unwrap();
    }
    ctx.capacity.take();
    reserve(&ctx, "team", long_run(14), RunKind::Standard).await.unwrap();
    let at_limit = ctx.capacity.take();
    let full = item_size(&raw_account(&ctx, "team").await);
    println!("team account at its 15-hold limit: {full} bytes; the 15th reserve: {at_limit:?}");
    let refused = reserve(&ctx, "team", long_run(15), RunKind::Standard).await;
    assert!(matches!(refused, Err(QuotaError::Refused(_))));
    let summary: BTreeMap<&str, String> = BTreeMap::from([
        ("three_holds_bytes", three_holds.to_string()),
        ("reserve_wcu", reserve_units.write_units.to_string()),
        ("commit_wcu_total", commit_units.write_units.to_string()),
        ("team_full_bytes", full.to_string()),
        ("team_15th_reserve_wcu", at_limit.write_units.to_string()),
    ]);
    println!("measured: {summary:?}");
}
