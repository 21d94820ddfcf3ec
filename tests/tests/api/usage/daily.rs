//! The daily series behind the usage charts: runs counted on the day they settle, in the
//! bucket that paid, exactly once, beside the day's LLM cost, read with one query.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing_tests::TestContext;
use billing_tests::usage::deliver;
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

async fn run(ctx: &TestContext, org_name: &str, run_id: &str) {
    let request = ReserveRequest { run_id: run_id.into(), kind: RunKind::Standard, estimated_cost_cents: None };
    let store = &ctx.app.store;
    store.reserve(&org(org_name), &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await.unwrap();
    store.commit(&org(org_name), run_id, None, false, None, ctx.app.now()).await.unwrap();
}

fn on(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn llm_call(event_id: &str, org: &str, recorded_at: &str) -> String {
    json!({
        "type": "llm_call", "event_id": event_id, "organization_id": org,
        "provider": "openai", "model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 0,
        "prompt_cost_usd": 0.5, "completion_cost_usd": 0, "payer": "platform", "recorded_at": recorded_at
    })
    .to_string()
}

fn money(v: &Value) -> Decimal {
    v.to_string().parse().unwrap()
}

#[tokio::test]
async fn runs_settled_on_different_days_are_counted_on_their_day_in_their_bucket_and_quiet_days_are_zeros() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    // Two free runs on the 3rd, one paid with credits on the 5th (the free quota used up).
    ctx.clock.set(on(3, 10));
    run(&ctx, "chart", "free-1").await;
    ctx.clock.set(on(3, 23));
    run(&ctx, "chart", "free-2").await;
    ctx.update_account(
        "chart",
        "SET free_remaining = :z, credit_balance_cents = :c",
        &[(":z", AttributeValue::N("0".into())), (":c", AttributeValue::N("10000".into()))],
    )
    .await;
    ctx.clock.set(on(5, 8));
    run(&ctx, "chart", "credits-1").await;
    let calls = [llm_call("c1", "chart", "2026-11-05T09:00:00Z"), llm_call("c2", "chart", "2026-11-06T09:00:00Z")];
    assert!(deliver(&ctx, &calls).await.batch_item_failures.is_empty());
    ctx.clock.set(on(23, 9));

    let token = server.tokens.member("chart");
    let reply = server.get("/api/billing/account/chart/usage/daily?from=2026-11-02&to=2026-11-07", Some(&token)).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!((&reply.json["from"], &reply.json["to"]), (&json!("2026-11-02"), &json!("2026-11-07")));
    let days = reply.json["days"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07"]);
    let quiet = json!({ "free": 0, "credits": 0, "subscription": 0, "overage": 0, "unlimited": 0 });
    for day in [&days[0], &days[2], &days[5]] {
        assert_eq!((&day["runs"], &day["total_runs"]), (&quiet, &json!(0)), "{day}");
        assert_eq!((money(&day["run_charges"]), money(&day["llm_cost"])), (Decimal::ZERO, Decimal::ZERO), "{day}");
    }
    assert_eq!((&days[1]["runs"]["free"], &days[1]["total_runs"]), (&json!(2), &json!(2)));
    assert_eq!(money(&days[1]["run_charges"]), Decimal::ZERO, "free runs cost nothing");
    assert_eq!((&days[3]["runs"]["credits"], &days[3]["total_runs"]), (&json!(1), &json!(1)));
    // LLM cost on its own day: $0.50 from the provider, $0.60 billable with the 20% margin.
    assert_eq!(
        (money(&days[3]["llm_cost"]), money(&days[3]["llm_billable_cost"])),
        (Decimal::new(5, 1), Decimal::new(6, 1))
    );
    assert_eq!((days[4]["total_runs"].as_u64(), money(&days[4]["llm_cost"])), (Some(0), Decimal::new(5, 1)));

    // A day's run charges are its usage records' total_price.
    let usage = server.get("/api/billing/account/chart/usage?limit=100", Some(&token)).await;
    let mut priced: BTreeMap<String, Decimal> = BTreeMap::new();
    for record in usage.json.as_array().unwrap() {
        let day = record["recorded_at"].as_str().unwrap()[..10].to_owned();
        *priced.entry(day).or_default() += money(&record["total_price"]);
    }
    assert!(priced["2026-11-05"] > Decimal::ZERO, "{priced:?}");
    assert_eq!(money(&days[3]["run_charges"]), priced["2026-11-05"]);

    // The cost summary reads the same key range and is not confused by the run aggregates.
    let summary =
        server.get("/api/billing/account/chart/costs/summary?from=2026-11-01&to=2026-11-30", Some(&token)).await;
    assert_eq!(summary.status, 200, "{summary:?}");
    assert_eq!(summary.json["record_count"], 2);
    assert_eq!(summary.json["breakdown"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_repeated_commit_counts_its_run_once_whether_its_hold_was_on_the_account_or_in_a_run_item() {
    let ctx = TestContext::new().await;
    ctx.update_account("unlimited", "SET tier = :t", &[(":t", AttributeValue::S("enterprise".into()))]).await;
    for name in ["limited", "unlimited"] {
        run(&ctx, name, "run-1").await;
        // The engine retries the commit (a lost answer), twice.
        for _ in 0..2 {
            let again = ctx.app.store.commit(&org(name), "run-1", None, false, None, ctx.app.now()).await.unwrap();
            assert!(!again.created, "{name}");
        }
    }
    let today = ctx.app.now().date_naive();
    for (name, bucket) in [("limited", "free"), ("unlimited", "unlimited")] {
        let found = ctx.app.store.daily_aggregates(&org(name), today, today).await.unwrap();
        assert_eq!(found.runs.len(), 1, "{name}: {found:?}");
        let counted = serde_json::to_value(&found.runs[0]).unwrap();
        assert_eq!(counted[bucket], 1, "{name}: {counted}");
        let usage = ctx
            .app
            .store
            .list_usage(&org(name), None, &listing(), billing::costs::store::Order::OldestFirst)
            .await
            .unwrap();
        assert_eq!(usage.items.len(), 1, "{name}");
    }
}

fn listing() -> billing::costs::store::Listing {
    billing::costs::store::Listing { from: None, to: None, limit: 100, cursor: None }
}

#[tokio::test]
async fn ninety_days_of_runs_and_costs_are_read_with_one_query() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    // Five free runs a month, then credits; the account opens on the first day.
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap());
    ctx.update_account("quarter", "SET credit_balance_cents = :c", &[(":c", AttributeValue::N("1000000".into()))])
        .await;
    let mut calls = Vec::new();
    for i in 0..30 {
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 12, 0, 0).unwrap() + chrono::Duration::days(3 * i);
        ctx.clock.set(at);
        run(&ctx, "quarter", &format!("run-{i}")).await;
        calls.push(llm_call(&format!("c{i}"), "quarter", &at.to_rfc3339()));
    }
    for chunk in calls.chunks(10) {
        assert!(deliver(&ctx, chunk).await.batch_item_failures.is_empty());
    }
    ctx.clock.set(on(29, 12));
    let token = server.tokens.member("quarter");
    ctx.calls.take();
    ctx.capacity.take();

    let reply =
        server.get("/api/billing/account/quarter/usage/daily?from=2026-09-01&to=2026-11-29", Some(&token)).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(ctx.calls.take(), BTreeMap::from([("Query".to_owned(), 1)]), "one query for 90 days");
    let spent = ctx.capacity.take();
    println!("daily series, 90 days with 60 aggregates: {spent:?}");
    let days = reply.json["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    let runs: u64 = days.iter().map(|d| d["total_runs"].as_u64().unwrap()).sum();
    let cost: Decimal = days.iter().map(|d| money(&d["llm_cost"])).sum();
    assert_eq!(runs, 30);
    assert_eq!(ctx.items_with_prefix("USAGE#").await.len(), 30);
    let free: u64 = days.iter().map(|d| d["runs"]["free"].as_u64().unwrap()).sum();
    assert_eq!(free, 15, "five free runs in each of September, October and November");
    assert_eq!(cost, Decimal::new(15, 0), "30 calls at $0.50");
}

#[tokio::test]
async fn bad_ranges_are_refused_with_detail_and_code() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("ranges");
    for (query, code) in [
        ("from=2026-11-10&to=2026-11-01", "invalid_range"),
        ("from=2025-01-01&to=2026-01-02", "invalid_range"),
        ("from=2026-12-01", "invalid_range"),
        ("from=yesterday", "invalid_query"),
        ("to=2026-11-01T00:00:00Z", "invalid_query"),
    ] {
        let reply = server.get(&format!("/api/billing/account/ranges/usage/daily?{query}"), Some(&token)).await;
        assert_eq!(reply.status, 400, "{query}: {reply:?}");
        assert_eq!(reply.json["code"], code, "{query}");
        assert!(reply.json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{query}");
    }
    let default = server.get("/api/billing/account/ranges/usage/daily", Some(&token)).await;
    assert_eq!(default.status, 200, "{default:?}");
    assert_eq!(default.json["days"].as_array().unwrap().len(), 30);
    assert_eq!(default.json["to"], json!(ctx.app.now().date_naive().to_string()));
}
