//! Operators overriding an account's limits: enforced by reserve, shown everywhere, expiring on
//! time, and refused when they cannot be enforced.

use billing_tests::operators::audit;
use billing_tests::quota::reserve_over_http;
use billing_tests::{Reply, TestContext, TestServer};
use serde_json::{Value, json};

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
    let replies = futures::future::join_all(runs.iter().map(|run| reserve_over_http(&server, "ops-e", run))).await;
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
    let (a, b) =
        tokio::join!(reserve_over_http(&server, "ops-e", "after-1"), reserve_over_http(&server, "ops-e", "after-2"));
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
    let refused = reserve_over_http(&server, "ops-f", "r-1").await;
    assert_eq!(refused.status, 402, "{refused:?}");
    let set =
        put_limits(&server, "ops-f", json!({ "workflows_per_month": { "value": 21 }, "reason": "promised extra run" }))
            .await;
    assert_eq!(set.status, 200, "{set:?}");
    let granted = reserve_over_http(&server, "ops-f", "r-2").await;
    assert_eq!((granted.status, granted.json["bucket"].as_str()), (201, Some("subscription")), "{granted:?}");
    assert_eq!(reserve_over_http(&server, "ops-f", "r-3").await.status, 402, "exactly one more");

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
