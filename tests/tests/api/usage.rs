//! The usage pipeline: queue messages, cost records and aggregates, budgets and their events.

use std::collections::BTreeMap;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing_tests::TestContext;
use futures::future::join_all;
use serde_json::{Value, json};

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

/// Delivers `bodies` to the usage consumer as one SQS batch, the way Lambda would.
pub(crate) async fn deliver(ctx: &TestContext, bodies: &[String]) -> SqsBatchResponse {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({ "messageId": format!("m{i}"), "body": body, "eventSourceARN": "arn:aws:sqs:us-east-1:0:usage" }))
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    billing::lambda::sqs::handle_batch(&sqs_usage_events::handle, ctx.app.clone(), event).await
}

/// An `llm_call` message; `cost_usd` is the JSON number text, e.g. `"0.25"`.
fn llm_call(event_id: &str, org: &str, payer: &str, cost_usd: &str) -> String {
    let cost: Value = serde_json::from_str(cost_usd).unwrap();
    json!({
        "type": "llm_call", "event_id": event_id, "organization_id": org, "run_id": "run-1",
        "provider": "anthropic", "model": "claude-sonnet-4", "prompt_tokens": 1000, "completion_tokens": 500,
        "prompt_cost_usd": cost, "completion_cost_usd": 0, "payer": payer, "recorded_at": "2026-11-23T09:00:00Z"
    })
    .to_string()
}

async fn reserve(ctx: &TestContext, org_name: &str, run: &str) {
    let request = ReserveRequest { run_id: run.into(), kind: RunKind::Standard, estimated_cost_cents: None };
    ctx.app
        .store
        .reserve(&org(org_name), &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl())
        .await
        .unwrap();
}

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
        reserve(&ctx, name, "run-1").await;
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

#[tokio::test]
async fn the_cost_summary_equals_the_sum_of_the_records_for_random_data() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let mut rng = fastrand::Rng::with_seed(7);
    let models = [("anthropic", "claude-sonnet-4"), ("openai", "gpt-4o"), ("openai", "gpt-4o-mini")];
    let mut bodies = Vec::new();
    for i in 0..40 {
        let (provider, model) = models[rng.usize(..models.len())];
        let day = rng.u32(1..=23);
        bodies.push(
            json!({
                "type": "llm_call", "event_id": format!("e{i}"), "organization_id": "sum",
                "provider": provider, "model": model,
                "prompt_tokens": rng.u64(0..20_000), "completion_tokens": rng.u64(0..5_000),
                "payer": if rng.bool() { "platform" } else { "customer_key" },
                "recorded_at": format!("2026-11-{day:02}T{:02}:00:00Z", rng.u32(0..24)),
            })
            .to_string(),
        );
    }
    for chunk in bodies.chunks(10) {
        assert!(deliver(&ctx, chunk).await.batch_item_failures.is_empty());
    }
    let token = server.tokens.member("sum");

    let summary =
        server.get("/api/billing/account/sum/costs/summary?from=2026-11-01&to=2026-11-30", Some(&token)).await;
    let list = server.get("/api/billing/account/sum/costs?limit=100", Some(&token)).await;

    assert_eq!((summary.status, list.status), (200, 200), "{summary:?}");
    let records = list.json.as_array().unwrap();
    assert_eq!(records.len(), 40);
    let micros =
        |v: &Value| billing::costs::rules::usd_to_micros(v.to_string().parse::<rust_decimal::Decimal>().unwrap());
    let total: i64 = records.iter().map(|r| micros(&r["total_cost"])).sum();
    let tokens: u64 = records.iter().map(|r| r["total_tokens"].as_u64().unwrap()).sum();
    assert_eq!(micros(&summary.json["total_cost"]), total);
    assert_eq!(summary.json["total_tokens"].as_u64().unwrap(), tokens);
    assert_eq!(summary.json["record_count"], 40);
    let mut by_model: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in records {
        *by_model.entry((r["provider"].as_str().unwrap().into(), r["model"].as_str().unwrap().into())).or_default() +=
            micros(&r["total_cost"]);
    }
    for item in summary.json["breakdown"].as_array().unwrap() {
        let key = (item["provider"].as_str().unwrap().to_owned(), item["model"].as_str().unwrap().to_owned());
        assert_eq!(micros(&item["cost"]), by_model[&key], "{key:?}");
    }
    // A narrower range only counts its days.
    let first_week =
        server.get("/api/billing/account/sum/costs/summary?from=2026-11-01&to=2026-11-07", Some(&token)).await;
    let in_week = records.iter().filter(|r| r["recorded_at"].as_str().unwrap() < "2026-11-08").count();
    assert_eq!(first_week.json["record_count"].as_u64().unwrap() as usize, in_week);
}

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
    let events = spy.events().await;
    assert!(events.iter().all(|e| e.event.name() == "CostRecorded"), "no budget events: {events:?}");
}

#[tokio::test]
async fn usage_reads_newest_first_on_request_and_a_cursor_keeps_its_order() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    ctx.account("newest").await;
    for i in 0..5 {
        reserve(&ctx, "newest", &format!("n{i}")).await;
        ctx.app.store.commit(&org("newest"), &format!("n{i}"), None, false, None, ctx.app.now()).await.unwrap();
        ctx.clock.advance(chrono::Duration::seconds(1));
    }
    let token = server.tokens.member("newest");
    let runs = |reply: &billing_tests::Reply| -> Vec<String> {
        reply
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["usage_details"]["run_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = "/api/billing/account/newest/usage";

    let oldest = server.get(&format!("{base}?limit=5"), Some(&token)).await;
    let first = server.get(&format!("{base}?order=newest_first&limit=3"), Some(&token)).await;
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second = server.get(&format!("{base}?order=newest_first&limit=3&cursor={cursor}"), Some(&token)).await;

    assert_eq!(runs(&oldest), ["n0", "n1", "n2", "n3", "n4"]);
    assert_eq!(runs(&first), ["n4", "n3", "n2"]);
    assert_eq!(runs(&second), ["n1", "n0"]);
    // A newest-first cursor cannot continue the oldest-first list, nor the other way round.
    let mixed = server.get(&format!("{base}?limit=3&cursor={cursor}"), Some(&token)).await;
    assert_eq!((mixed.status, mixed.json["code"].as_str()), (400, Some("invalid_cursor")), "{mixed:?}");
    let bad = server.get(&format!("{base}?order=sideways"), Some(&token)).await;
    assert_eq!((bad.status, bad.json["code"].as_str()), (400, Some("invalid_query")), "{bad:?}");
}

#[tokio::test]
async fn usage_lists_page_with_a_cursor_and_filter_by_billed() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    ctx.update_account(
        "lister",
        "SET tier = :t, has_payment_method = :y, free_remaining = :f",
        &[
            (":t", AttributeValue::S("starter".into())),
            (":y", AttributeValue::Bool(true)),
            (":f", AttributeValue::N("5".into())),
        ],
    )
    .await;
    for i in 0..7 {
        reserve(&ctx, "lister", &format!("r{i}")).await;
        ctx.app.store.commit(&org("lister"), &format!("r{i}"), None, false, None, ctx.app.now()).await.unwrap();
        ctx.clock.advance(chrono::Duration::seconds(1));
    }
    let token = server.tokens.member("lister");

    let first = server.get("/api/billing/account/lister/usage?limit=4", Some(&token)).await;
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second = server.get(&format!("/api/billing/account/lister/usage?limit=4&cursor={cursor}"), Some(&token)).await;

    assert_eq!(first.json.as_array().unwrap().len(), 4);
    assert_eq!(second.json.as_array().unwrap().len(), 3);
    assert!(second.headers.get("x-next-cursor").is_none(), "the last page has no cursor");
    let ids: std::collections::BTreeSet<&str> = first
        .json
        .as_array()
        .unwrap()
        .iter()
        .chain(second.json.as_array().unwrap())
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7, "no record twice, none skipped");
    // Five free runs then two subscription runs: paid for on the spot, but on no invoice yet
    // (`billed` means "on an invoice"); the invoice takes all seven, at $0.
    let unbilled = server.get("/api/billing/account/lister/usage?billed=false", Some(&token)).await;
    assert_eq!(unbilled.json.as_array().unwrap().len(), 7);
    let invoice = billing::invoicing::flow::generate(&ctx.app, &org("lister")).await.unwrap().invoice;
    assert_eq!((invoice.total_cents, invoice.line_items.len()), (0, 2));
    let billed = server.get("/api/billing/account/lister/usage?billed=true", Some(&token)).await;
    assert_eq!(billed.json.as_array().unwrap().len(), 7);
    assert!(billed.json.as_array().unwrap().iter().all(|u| u["invoice_id"] == invoice.id.as_str()));
    let unbilled = server.get("/api/billing/account/lister/usage?billed=false", Some(&token)).await;
    assert_eq!(unbilled.json.as_array().unwrap().len(), 0);

    for bad in ["limit=0", "limit=101", "billed=maybe", "from=yesterday", "cursor=zz", "from=2026-11-10&to=2026-11-01"]
    {
        let reply = server.get(&format!("/api/billing/account/lister/usage?{bad}"), Some(&token)).await;
        assert_eq!(reply.status, 400, "{bad}: {reply:?}");
    }
    assert_eq!(server.get("/api/billing/account/lister/usage", Some(&server.tokens.member("other"))).await.status, 403);
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
async fn a_reservation_refused_for_lack_of_quota_announces_quota_exhausted() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let spy = ctx.event_spy().await;
    ctx.update_account("empty", "SET free_remaining = :z", &[(":z", AttributeValue::N("0".into()))]).await;

    let refused = server
        .request(
            "POST",
            "/api/billing/internal/quota/empty/reservations",
            Some(&server.service_token()),
            Some(json!({ "run_id": "r9", "kind": "complex" })),
        )
        .await;

    assert_eq!(refused.status, 402);
    let events = spy.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].id, "quota-exhausted-empty-r9");
    assert_eq!(
        events[0].event,
        billing::events::DomainEvent::QuotaExhausted { run_id: "r9".into(), kind: "complex".into() }
    );
}

/// Asserts a refusal: the status, the code, and a body of exactly `detail` and `code`.
fn assert_refused(reply: &billing_tests::Reply, status: u16, code: &str, case: &str) {
    assert_eq!((reply.status, reply.json["code"].as_str()), (status, Some(code)), "{case}: {reply:?}");
    let body = reply.json.as_object().unwrap_or_else(|| panic!("{case}: not an object: {reply:?}"));
    assert!(body.len() == 2 && body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{case}: {reply:?}");
}

#[tokio::test]
async fn a_cost_summary_whose_from_is_after_its_to_is_refused_even_when_one_bound_is_the_default() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("ranged");
    let summary = |query: &str| {
        let path = format!("/api/billing/account/ranged/costs/summary?{query}");
        let (server, token) = (&server, &token);
        async move { server.get(&path, Some(token)).await }
    };

    // Now is 2026-11-23T09:30Z: `to` defaults to now, `from` to 2026-11-01.
    for bad in ["from=2026-11-10&to=2026-11-01", "from=2026-12-01", "from=2026-11-23T10:00:00Z", "to=2026-10-31"] {
        assert_refused(&summary(bad).await, 400, "invalid_range", bad);
    }
    for good in ["", "from=2026-10-01", "to=2026-11-30", "from=2026-11-23&to=2026-11-23"] {
        let reply = summary(good).await;
        assert_eq!((reply.status, &reply.json["record_count"]), (200, &json!(0)), "{good}: {reply:?}");
    }
}

#[tokio::test]
async fn every_list_route_answers_bad_query_input_with_a_400_and_its_code() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("queries");
    let base = "/api/billing/account/queries";
    let mut cases = Vec::new();
    for route in ["usage", "costs", "costs/summary"] {
        cases.push((route, "from=yesterday", "invalid_query"));
        cases.push((route, "to=2026-13-01", "invalid_query"));
        cases.push((route, "from=2026-11-10&to=2026-11-01", "invalid_range"));
        cases.push((route, "from=2026-11-10T10:00:00Z&to=2026-11-10T09:59:59Z", "invalid_range"));
    }
    for route in ["usage", "costs"] {
        for limit in ["limit=0", "limit=101", "limit=ten", "limit=-1", "limit=99999999999999999999999"] {
            cases.push((route, limit, "invalid_query"));
        }
        cases.push((route, "cursor=", "invalid_cursor"));
    }
    cases.push(("usage", "billed=maybe", "invalid_query"));

    for (route, query, code) in cases {
        let reply = server.get(&format!("{base}/{route}?{query}"), Some(&token)).await;
        assert_refused(&reply, 400, code, &format!("{route}?{query}"));
    }
}

#[tokio::test]
async fn a_cursor_that_is_empty_foreign_tampered_or_kept_after_changing_the_query_is_refused_as_invalid_cursor() {
    use billing::store::cursor::{ListKind, ListQuery, encode};
    use billing::store::keys::Key;

    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let bodies: Vec<String> = (0..5).map(|i| llm_call(&format!("p{i}"), "pager", "platform", "0.01")).collect();
    assert!(deliver(&ctx, &bodies).await.batch_item_failures.is_empty());
    ctx.update_account("pager", "SET free_remaining = :f", &[(":f", AttributeValue::N("5".into()))]).await;
    for i in 0..3 {
        reserve(&ctx, "pager", &format!("r{i}")).await;
        ctx.app.store.commit(&org("pager"), &format!("r{i}"), None, false, None, ctx.app.now()).await.unwrap();
    }
    let token = server.tokens.member("pager");
    let base = "/api/billing/account/pager";
    let next = |reply: &billing_tests::Reply| reply.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let costs_cursor = next(&server.get(&format!("{base}/costs?limit=2"), Some(&token)).await);
    let usage_cursor = next(&server.get(&format!("{base}/usage?limit=2"), Some(&token)).await);

    // The cursor works on its own query, whatever the page size.
    let second = server.get(&format!("{base}/costs?limit=2&cursor={costs_cursor}"), Some(&token)).await;
    assert_eq!((second.status, second.json.as_array().map(Vec::len)), (200, Some(2)), "{second:?}");
    let rest = server.get(&format!("{base}/costs?limit=10&cursor={costs_cursor}"), Some(&token)).await;
    assert_eq!((rest.status, rest.json.as_array().map(Vec::len)), (200, Some(3)), "{rest:?}");

    let costs_query = ListQuery::new(ListKind::Costs, &org("pager"), None, None, None);
    let forged = |pk: &str, sk: &str| encode(&costs_query, &Key { pk: pk.into(), sk: sk.into() });
    let truncated = &costs_cursor[..costs_cursor.len() - 3];
    let cases = [
        ("pager/costs?cursor=".to_owned(), "empty"),
        ("pager/costs?cursor=zz".to_owned(), "garbage"),
        (format!("pager/costs?cursor={truncated}"), "truncated"),
        (format!("pager/costs?cursor={usage_cursor}"), "a usage cursor on costs"),
        (format!("pager/usage?cursor={costs_cursor}"), "a costs cursor on usage"),
        (format!("pager/costs?cursor={costs_cursor}&from=2026-11-01"), "from added"),
        (format!("pager/costs?cursor={costs_cursor}&to=2026-11-30"), "to added"),
        (format!("pager/usage?cursor={usage_cursor}&billed=true"), "billed added"),
        (format!("pager/costs?cursor={}", forged("ORG#victim", "COST#2026-11-23")), "another partition"),
        (format!("pager/costs?cursor={}", forged("ORG#pager", "USAGE#2026-11-23")), "outside the range"),
        (format!("pager/costs?cursor={}", forged("ORG#pager", "")), "an empty sort key"),
    ];
    ctx.calls.take();
    for (path, case) in &cases {
        let reply = server.get(&format!("/api/billing/account/{path}"), Some(&token)).await;
        assert_refused(&reply, 400, "invalid_cursor", case);
    }
    // Another organization's member cannot use pager's cursor on their own list.
    let other = server
        .get(&format!("/api/billing/account/other/costs?cursor={costs_cursor}"), Some(&server.tokens.member("other")))
        .await;
    assert_refused(&other, 400, "invalid_cursor", "another organization");
    let calls = ctx.calls.take();
    assert_eq!(calls.get("Query"), None, "refused before DynamoDB is asked: {calls:?}");
}

#[tokio::test]
async fn the_cost_summary_the_budget_and_the_cost_records_agree_on_billable_cost() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let mut bodies = vec![
        llm_call("platform-1", "agree", "platform", "0.10"),
        llm_call("platform-2", "agree", "platform", "0.25"),
        llm_call("byo-1", "agree", "customer_key", "3.0"),
    ];
    bodies.push(
        json!({
            "type": "llm_call", "event_id": "platform-3", "organization_id": "agree",
            "provider": "openai", "model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 200,
            "payer": "platform", "recorded_at": "2026-11-02T12:00:00Z"
        })
        .to_string(),
    );
    assert!(deliver(&ctx, &bodies).await.batch_item_failures.is_empty());
    let token = server.tokens.member("agree");
    let base = "/api/billing/account/agree";

    let summary = server.get(&format!("{base}/costs/summary"), Some(&token)).await;
    let month = server.get(&format!("{base}/costs/summary?from=2026-11-01&to=2026-11-30"), Some(&token)).await;
    let budget = server.get(&format!("{base}/budget"), Some(&token)).await;
    let records = server.get(&format!("{base}/costs"), Some(&token)).await;

    assert_eq!((summary.status, month.status, budget.status, records.status), (200, 200, 200, 200));
    assert_eq!(summary.json, month.json, "the default range is this month");
    let micros =
        |v: &Value| billing::costs::rules::usd_to_micros(v.to_string().parse::<rust_decimal::Decimal>().unwrap());
    let records = records.json.as_array().unwrap();
    let billable_sum: i64 = records.iter().map(|r| micros(&r["billable_cost"])).sum();
    let cost_sum: i64 = records.iter().map(|r| micros(&r["total_cost"])).sum();
    // gpt-4o: 1000 × $2.50/M + 200 × $10/M = $0.0045; platform calls carry the 20% margin.
    assert_eq!(billable_sum, (100_000 + 250_000 + 4_500) * 12 / 10);
    assert_eq!(micros(&summary.json["billable_cost"]), billable_sum);
    assert_eq!(micros(&budget.json["month_to_date_usd"]), billable_sum);
    assert_eq!(micros(&summary.json["total_cost"]), cost_sum);
    assert_eq!(cost_sum, 100_000 + 250_000 + 3_000_000 + 4_500, "total_cost is what the providers charged");
    let byo = records.iter().find(|r| r["id"].as_str().unwrap().contains("byo-1")).unwrap();
    assert_eq!((&byo["total_cost"], &byo["billable_cost"]), (&json!(3.0), &json!(0.0)));
    for item in summary.json["breakdown"].as_array().unwrap() {
        let of_model = records.iter().filter(|r| r["provider"] == item["provider"] && r["model"] == item["model"]);
        let (cost, billable) =
            of_model.fold((0, 0), |(c, b), r| (c + micros(&r["total_cost"]), b + micros(&r["billable_cost"])));
        assert_eq!((micros(&item["cost"]), micros(&item["billable_cost"])), (cost, billable), "{item}");
    }
}
