//! Operators' routes: suspension and its lifting, audited with who and why, and the trail.

use billing_tests::{Reply, TestContext, TestServer};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

async fn admin_post(server: &TestServer, org: &str, action: &str, body: Option<Value>) -> Reply {
    let path = format!("/api/billing/admin/accounts/{org}/{action}");
    server.request("POST", &path, Some(&server.tokens.admin()), body).await
}

async fn reserve(server: &TestServer, org: &str, run: &str) -> Reply {
    let path = format!("/api/billing/internal/quota/{org}/reservations");
    server
        .request("POST", &path, Some(&server.service_token()), Some(json!({ "run_id": run, "kind": "standard" })))
        .await
}

async fn audit(server: &TestServer, org: &str) -> Vec<Value> {
    let reply =
        server.get(&format!("/api/billing/admin/audit?organization_id={org}"), Some(&server.tokens.admin())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_operators_suspension_stops_new_runs_is_audited_with_who_and_why_and_an_operator_lifts_it() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("ops-a").await;

    // Without a reason nothing changes; neither does a customer's owner.
    for body in [None, Some(json!({})), Some(json!({ "reason": "  " }))] {
        let refused = admin_post(&server, "ops-a", "suspend", body).await;
        assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some("reason_required")), "{refused:?}");
    }
    let owner = server.tokens.owner("ops-a");
    let path = "/api/billing/admin/accounts/ops-a/suspend";
    let refused = server.request("POST", path, Some(&owner), Some(json!({ "reason": "mine" }))).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (403, Some("admin_required")), "{refused:?}");
    assert_eq!(ctx.stored_account("ops-a").await.status, billing::accounts::rules::AccountStatus::Active);
    assert!(audit(&server, "ops-a").await.is_empty());

    let suspended = admin_post(&server, "ops-a", "suspend", Some(json!({ "reason": "chargeback review" }))).await;
    assert_eq!(suspended.status, 200, "{suspended:?}");
    assert_eq!(
        suspended.json,
        json!({ "organization_id": "ops-a", "status": "suspended", "suspension_reason": "operator",
                "suspension_note": "chargeback review" })
    );
    let refused = reserve(&server, "ops-a", "run-1").await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (403, Some("account_suspended")), "{refused:?}");
    let again = admin_post(&server, "ops-a", "suspend", Some(json!({ "reason": "twice" }))).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("already_suspended")));
    assert_eq!(ctx.items_with_prefix("OUTBOX#suspended-operator-").await.len(), 1, "one AccountSuspended");

    let lifted = admin_post(&server, "ops-a", "unsuspend", Some(json!({ "reason": "review cleared" }))).await;
    assert_eq!((lifted.status, &lifted.json["status"]), (200, &json!("active")), "{lifted:?}");
    assert_eq!(reserve(&server, "ops-a", "run-2").await.status, 201);
    let again = admin_post(&server, "ops-a", "unsuspend", Some(json!({ "reason": "twice" }))).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("not_suspended")));
    assert_eq!(ctx.items_with_prefix("OUTBOX#reactivated-operator-").await.len(), 1, "one AccountReactivated");

    // Newest first: who, what, why, before and after.
    let trail = audit(&server, "ops-a").await;
    let summary: Vec<(&str, &str, &str, &str, &str)> = trail
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default();
            let status = |side: &str| e[side]["status"].as_str().unwrap_or_default();
            let (before, after) = (status("before"), status("after"));
            (field("actor"), field("action"), field("reason"), before, after)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("admin", "account_unsuspended", "review cleared", "suspended", "active"),
            ("admin", "account_suspended", "chargeback review", "active", "suspended"),
        ]
    );
}

#[tokio::test]
async fn two_operators_suspending_at_once_make_one_suspension_and_one_audit_entry() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("ops-b").await;
    let (a, b) = tokio::join!(
        admin_post(&server, "ops-b", "suspend", Some(json!({ "reason": "first" }))),
        admin_post(&server, "ops-b", "suspend", Some(json!({ "reason": "second" }))),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    assert_eq!(audit(&server, "ops-b").await.len(), 1);
    assert_eq!(ctx.items_with_prefix("OUTBOX#suspended-operator-").await.len(), 1);
}

#[tokio::test]
async fn the_audit_trail_needs_an_organization_and_pages_newest_first() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("ops-c").await;
    for i in 0..3 {
        assert_eq!(
            admin_post(&server, "ops-c", "suspend", Some(json!({ "reason": format!("s{i}") }))).await.status,
            200
        );
        assert_eq!(
            admin_post(&server, "ops-c", "unsuspend", Some(json!({ "reason": format!("u{i}") }))).await.status,
            200
        );
    }
    let admin = server.tokens.admin();
    let missing = server.get("/api/billing/admin/audit", Some(&admin)).await;
    assert_eq!((missing.status, missing.json["code"].as_str()), (400, Some("organization_required")));
    let mut reasons = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/billing/admin/audit?organization_id=ops-c&limit=4".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = server.get(&path, Some(&admin)).await;
        assert_eq!(page.status, 200, "{page:?}");
        reasons.extend(page.json.as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap().to_owned()));
        cursor = page.headers.get("x-next-cursor").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(reasons, ["u2", "s2", "u1", "s1", "u0", "s0"]);
}

/// A dollar amount from a JSON number, exactly (no float on the way).
fn usd(value: &Value) -> rust_decimal::Decimal {
    value.to_string().parse().unwrap_or_else(|e| panic!("{value} is not an amount: {e}"))
}

async fn grant(server: &TestServer, org: &str, key: Option<&str>, body: Value) -> Reply {
    let path = format!("/api/billing/admin/accounts/{org}/credits");
    let token = server.tokens.admin();
    match key {
        Some(key) => {
            server.request_with_headers("POST", &path, Some(&token), Some(body), &[("idempotency-key", key)]).await
        }
        None => server.request("POST", &path, Some(&token), Some(body)).await,
    }
}

#[tokio::test]
async fn credits_are_granted_once_per_key_with_who_and_why_and_never_removed_below_what_holds_reserve() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("ops-d").await;

    let no_key = grant(&server, "ops-d", None, json!({ "amount_usd": 50, "reason": "goodwill" })).await;
    assert_eq!((no_key.status, no_key.json["code"].as_str()), (400, Some("idempotency_key_required")));
    let no_reason = grant(&server, "ops-d", Some("g-0"), json!({ "amount_usd": 50 })).await;
    assert_eq!((no_reason.status, no_reason.json["code"].as_str()), (400, Some("reason_required")));
    assert_eq!(ctx.stored_account("ops-d").await.credit_balance_cents, 0);

    let first = grant(&server, "ops-d", Some("g-1"), json!({ "amount_usd": 50, "reason": "goodwill" })).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!((usd(&first.json["amount_usd"]), usd(&first.json["available_usd"])), (dec!(50), dec!(50)));
    let replay = grant(&server, "ops-d", Some("g-1"), json!({ "amount_usd": 50, "reason": "goodwill" })).await;
    assert_eq!((replay.status, &replay.json), (200, &first.json));
    let misuse = grant(&server, "ops-d", Some("g-1"), json!({ "amount_usd": 60, "reason": "goodwill" })).await;
    assert_eq!((misuse.status, misuse.json["code"].as_str()), (422, Some("idempotency_key_reused")));
    assert_eq!(ctx.stored_account("ops-d").await.credit_balance_cents, 5_000);

    // Two operators with different keys at once both count; the same key twice at once, once.
    let (a, b, c, d) = tokio::join!(
        grant(&server, "ops-d", Some("g-2"), json!({ "amount_usd": 5, "reason": "a" })),
        grant(&server, "ops-d", Some("g-3"), json!({ "amount_usd": 7, "reason": "b" })),
        grant(&server, "ops-d", Some("g-4"), json!({ "amount_usd": 11, "reason": "c" })),
        grant(&server, "ops-d", Some("g-4"), json!({ "amount_usd": 11, "reason": "c" })),
    );
    assert_eq!((a.status, b.status), (200, 200), "{a:?} {b:?}");
    assert!([c.status, d.status].contains(&200), "{c:?} {d:?}");
    assert_eq!(ctx.stored_account("ops-d").await.credit_balance_cents, 5_000 + 500 + 700 + 1_100);

    // 73 available, 30 held by running workflows: removing 74 is refused, 73 is not.
    ctx.update_account(
        "ops-d",
        "SET credit_held_cents = :h",
        &[(":h", aws_sdk_dynamodb::types::AttributeValue::N("3000".into()))],
    )
    .await;
    let too_much = grant(&server, "ops-d", Some("r-1"), json!({ "amount_usd": -73.01, "reason": "clawback" })).await;
    assert_eq!((too_much.status, too_much.json["code"].as_str()), (409, Some("insufficient_credits")), "{too_much:?}");
    let removed = grant(&server, "ops-d", Some("r-2"), json!({ "amount_usd": -73, "reason": "clawback" })).await;
    assert_eq!(removed.status, 200, "{removed:?}");
    assert_eq!((usd(&removed.json["available_usd"]), usd(&removed.json["held_usd"])), (dec!(0), dec!(30)));

    // The ledger names the operator and the reason; the trail has one entry per change.
    let org = billing::ids::OrganizationId::parse("ops-d").unwrap();
    let ledger = ctx.app.store.recent_ledger(&org, 50).await.unwrap();
    let grants: Vec<(i64, &str, &str)> = ledger
        .iter()
        .filter(|e| e.kind == billing::usage::rules::LedgerKind::Grant)
        .map(|e| (e.amount_cents, e.actor.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(grants.len(), 5, "{grants:?}");
    assert!(
        grants.contains(&(-7_300, "operator:admin", "clawback"))
            && grants.contains(&(5_000, "operator:admin", "goodwill"))
    );
    let trail = audit(&server, "ops-d").await;
    assert_eq!(trail.len(), 5);
    // Exact amounts in the trail: decimal strings.
    let before = &trail[0]["before"]["available_usd"];
    assert_eq!((trail[0]["action"].as_str(), before.as_str()), (Some("credits_removed"), Some("73.00")), "{before}");
}

async fn put_limits(server: &TestServer, org: &str, body: Value) -> Reply {
    let path = format!("/api/billing/admin/accounts/{org}/limits");
    server.request("PUT", &path, Some(&server.tokens.admin()), Some(body)).await
}

#[tokio::test]
async fn limit_overrides_are_enforced_by_reserve_under_concurrency_shown_everywhere_and_expire_on_time() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("ops-e").await;
    let until = ctx.app.now() + chrono::Duration::hours(1);

    // The free plan runs one workflow at a time; an operator allows three for an hour.
    let set = put_limits(
        &server,
        "ops-e",
        json!({ "concurrent_agents": { "value": 3, "expires_at": until }, "reason": "load test" }),
    )
    .await;
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.json["in_force"], json!({ "workflows_per_month": 5, "concurrent_agents": 3, "storage_gb": 2 }));
    let runs: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    let replies = futures::future::join_all(runs.iter().map(|run| reserve(&server, "ops-e", run))).await;
    let granted: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(granted.len(), 3, "{replies:?}");
    assert!(replies.iter().all(|r| r.status == 201 || r.status == 429), "{replies:?}");
    let owner = server.tokens.owner("ops-e");
    let quota = server.get("/api/billing/account/ops-e/quota", Some(&owner)).await;
    assert_eq!(quota.json["runs"]["limit"], json!(3), "{quota:?}");
    let subscription = server.get("/api/billing/account/ops-e/subscription", Some(&owner)).await;
    assert_eq!(subscription.json["agents_limit"], json!(3), "{subscription:?}");

    // Once it expires the plan's own limit is back.
    let org = billing::ids::OrganizationId::parse("ops-e").unwrap();
    for reply in &granted {
        let run = reply.json["run_id"].as_str().unwrap();
        ctx.app.store.release(&org, run, ctx.app.now()).await.unwrap();
    }
    ctx.clock.set(until);
    let (a, b) = tokio::join!(reserve(&server, "ops-e", "after-1"), reserve(&server, "ops-e", "after-2"));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 429], "{a:?} {b:?}");
    let audit = audit(&server, "ops-e").await;
    assert_eq!((audit.len(), audit[0]["action"].as_str()), (1, Some("limits_overridden")));
    assert_eq!(audit[0]["after"]["concurrent_agents"]["value"], json!(3));
}

#[tokio::test]
async fn a_monthly_quota_override_lets_a_paid_plan_run_past_its_quota_and_unenforceable_overrides_are_refused() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("ops-f").await;
    // Starter: 20 a month, all used, no card: refused until an operator raises the quota.
    let n = |v: &str| aws_sdk_dynamodb::types::AttributeValue::N(v.into());
    let period = billing::period::month_key(ctx.app.now());
    ctx.update_account(
        "ops-f",
        "SET tier = :t, free_remaining = :z, period_used = :u, usage_period = :p",
        &[
            (":t", aws_sdk_dynamodb::types::AttributeValue::S("starter".into())),
            (":z", n("0")),
            (":u", n("20")),
            (":p", aws_sdk_dynamodb::types::AttributeValue::S(period)),
        ],
    )
    .await;
    let refused = reserve(&server, "ops-f", "r-1").await;
    assert_eq!(refused.status, 402, "{refused:?}");
    let set =
        put_limits(&server, "ops-f", json!({ "workflows_per_month": { "value": 21 }, "reason": "promised extra run" }))
            .await;
    assert_eq!(set.status, 200, "{set:?}");
    let granted = reserve(&server, "ops-f", "r-2").await;
    assert_eq!((granted.status, granted.json["bucket"].as_str()), (201, Some("subscription")), "{granted:?}");
    assert_eq!(reserve(&server, "ops-f", "r-3").await.status, 402, "exactly one more");

    // Overrides the engine could not enforce, or that would never apply, change nothing.
    ctx.account("ops-g").await;
    let past = ctx.app.now() - chrono::Duration::seconds(1);
    for (org, body, code) in [
        ("ops-g", json!({ "workflows_per_month": { "value": 50 }, "reason": "r" }), "limit_not_overridable"),
        ("ops-f", json!({ "concurrent_agents": { "value": 9, "expires_at": past }, "reason": "r" }), "invalid_expiry"),
        ("ops-f", json!({ "storage_gb": { "value": 9 } }), "reason_required"),
    ] {
        let refused = put_limits(&server, org, body).await;
        assert_eq!(refused.json["code"].as_str(), Some(code), "{refused:?}");
    }
    ctx.update_account(
        "ops-g",
        "SET tier = :t",
        &[(":t", aws_sdk_dynamodb::types::AttributeValue::S("enterprise".into()))],
    )
    .await;
    let unlimited = put_limits(&server, "ops-g", json!({ "concurrent_agents": { "value": 2 }, "reason": "r" })).await;
    assert_eq!((unlimited.status, unlimited.json["code"].as_str()), (409, Some("limit_not_overridable")));
    assert_eq!(audit(&server, "ops-g").await.len(), 0);
    assert_eq!(audit(&server, "ops-f").await.len(), 1);
}
