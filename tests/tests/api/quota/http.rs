//! The quota routes over HTTP, as the workflow engine and the frontend call them.

use aws_sdk_dynamodb::types::AttributeValue;
use billing_tests::{TestContext, TestServer};
use serde_json::{Value, json};

const BASE: &str = "/api/billing/internal/quota";

async fn reserve(server: &TestServer, org: &str, body: Value) -> billing_tests::Reply {
    server.request("POST", &format!("{BASE}/{org}/reservations"), Some(&server.service_token()), Some(body)).await
}

#[tokio::test]
async fn internal_routes_accept_only_the_service_identity() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let body = json!({ "run_id": "r1", "kind": "standard" });
    for token in [None, Some(server.tokens.member("demo")), Some(server.tokens.admin())] {
        let reply =
            server.request("POST", &format!("{BASE}/demo/reservations"), token.as_deref(), Some(body.clone())).await;
        // API Gateway's IAM authorization answers an unsigned request itself.
        assert_eq!((reply.status, &reply.json), (403, &json!({ "message": "Forbidden" })), "{token:?}: {reply:?}");
    }
    assert!(ctx.all_items().await.is_empty());
}

#[tokio::test]
async fn reserve_answers_201_then_200_with_the_same_reservation() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let body = json!({ "run_id": "run-7", "kind": "complex" });

    let first = reserve(&server, "demo", body.clone()).await;
    let again = reserve(&server, "demo", body).await;

    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(again.status, 200);
    assert_eq!(first.json, again.json);
    assert_eq!(first.json["bucket"], "free");
    assert_eq!(first.json["workflows_held"], 1);
    assert_eq!(first.json["expires_at"], "2026-11-23T10:00:00Z");
}

#[tokio::test]
async fn refusals_carry_their_status_code_and_retry_hint() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    assert_eq!(reserve(&server, "demo", json!({ "run_id": "a", "kind": "standard" })).await.status, 201);

    let busy = reserve(&server, "demo", json!({ "run_id": "b", "kind": "standard" })).await;
    assert_eq!((busy.status, busy.json["code"].as_str()), (429, Some("concurrency_limit")));
    let retry_after: u64 = busy.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));

    ctx.update_account("broke", "SET free_remaining = :z", &[(":z", AttributeValue::N("0".into()))]).await;
    let broke = reserve(&server, "broke", json!({ "run_id": "a", "kind": "standard" })).await;
    assert_eq!((broke.status, broke.json["code"].as_str()), (402, Some("quota_exhausted")));

    ctx.update_account("frozen", "SET #status = :s", &[(":s", AttributeValue::S("suspended".into()))]).await;
    let frozen = reserve(&server, "frozen", json!({ "run_id": "a", "kind": "standard" })).await;
    assert_eq!((frozen.status, frozen.json["code"].as_str()), (403, Some("account_suspended")));
}

#[tokio::test]
async fn a_dry_run_answers_like_reserve_and_writes_nothing() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.service_token();
    let path = format!("{BASE}/demo/reservations?dry_run=true");

    let check = server.request("POST", &path, Some(&token), Some(json!({ "run_id": "a", "kind": "standard" }))).await;

    assert_eq!(check.status, 200);
    assert_eq!(check.json, json!({ "allowed": true, "bucket": "free", "code": null, "detail": null }));
    assert!(ctx.all_items().await.is_empty(), "a dry run creates nothing");

    ctx.update_account("broke", "SET free_remaining = :z", &[(":z", AttributeValue::N("0".into()))]).await;
    let path = format!("{BASE}/broke/reservations?dry_run=true");
    let check = server.request("POST", &path, Some(&token), Some(json!({ "run_id": "a", "kind": "standard" }))).await;
    assert_eq!((check.json["allowed"].as_bool(), check.json["code"].as_str()), (Some(false), Some("quota_exhausted")));
}

#[tokio::test]
async fn malformed_reservations_are_400s_that_change_nothing() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let cases = [
        (json!({ "run_id": "a", "kind": "standard", "tier": "team" }), "invalid_body"),
        (json!({ "run_id": "a", "kind": "huge" }), "invalid_body"),
        (json!({ "run_id": "a" }), "invalid_body"),
        (json!({ "run_id": "a b", "kind": "standard" }), "invalid_run_id"),
        (json!({ "run_id": "a", "kind": "standard", "estimated_cost_usd": -1 }), "invalid_amount"),
        (json!({ "run_id": "a", "kind": "standard", "estimated_cost_usd": "10" }), "invalid_body"),
        (json!({ "run_id": "a", "kind": "standard", "estimated_cost_usd": 0.001 }), "invalid_amount"),
    ];
    for (body, code) in cases {
        let reply = reserve(&server, "demo", body.clone()).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (400, Some(code)), "{body}: {reply:?}");
    }
    let bad_org = reserve(&server, "no%20pe", json!({ "run_id": "a", "kind": "standard" })).await;
    assert_eq!(bad_org.status, 400);
    assert!(ctx.all_items().await.is_empty());
}

#[tokio::test]
async fn commit_heartbeat_and_release_over_http_answer_each_state_clearly() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.service_token();
    let run = |run: &str, action: &str| format!("{BASE}/demo/reservations/{run}/{action}");
    reserve(&server, "demo", json!({ "run_id": "done", "kind": "standard" })).await;

    let beat = server.request("POST", &run("done", "heartbeat"), Some(&token), None).await;
    assert_eq!(beat.status, 200);
    let details = json!({ "actual_cost_usd": 0, "details": { "steps": 3 } });
    let first = server.request("POST", &run("done", "commit"), Some(&token), Some(details.clone())).await;
    let again = server.request("POST", &run("done", "commit"), Some(&token), Some(details)).await;
    assert_eq!((first.status, again.status), (201, 200), "{first:?}");
    assert_eq!(first.json["usage"], again.json["usage"]);
    assert_eq!(first.json["usage"]["free_tier_used"], true);
    assert_eq!(first.json["usage"]["usage_details"]["run"], json!({ "steps": 3 }));

    let release = server.request("POST", &run("done", "release"), Some(&token), None).await;
    assert_eq!((release.status, release.json["code"].as_str()), (409, Some("reservation_settled")));
    let unknown = server.request("POST", &run("ghost", "heartbeat"), Some(&token), None).await;
    assert_eq!((unknown.status, unknown.json["code"].as_str()), (404, Some("reservation_not_found")));
    let bad = server
        .request("POST", &run("done", "commit"), Some(&token), Some(json!({ "actual_cost_usd": 1, "extra": 1 })))
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn members_see_their_quota_standing_and_nobody_elses() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.update_account(
        "demo",
        "SET tier = :t, credit_balance_cents = :c",
        &[(":t", AttributeValue::S("pro".into())), (":c", AttributeValue::N("2550".into()))],
    )
    .await;
    reserve(&server, "demo", json!({ "run_id": "a", "kind": "standard" })).await;

    let standing = server.get("/api/billing/account/demo/quota", Some(&server.tokens.member("demo"))).await;

    assert_eq!(standing.status, 200);
    assert_eq!(
        standing.json,
        json!({
            "organization_id": "demo",
            "tier": "pro",
            "status": "active",
            "free": { "remaining": 4, "limit": 5, "resets_at": "2026-12-01T00:00:00Z" },
            "credits": { "available": 25.5, "held": 0.0 },
            "subscription": { "used": 0, "limit": 100 },
            "runs": { "active": 1, "limit": 5 },
            "overage_allowed": false
        })
    );
    let other = server.get("/api/billing/account/demo/quota", Some(&server.tokens.member("other"))).await;
    assert_eq!(other.status, 403);
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
    // Through the outbox, like every event: the stream publishes it.
    assert_eq!(ctx.outbox_events("QuotaExhausted").await, 1);
    let mut outbox = ctx.outbox().await;
    ctx.drain_outbox(&mut outbox, &ctx.app).await;
    let events = spy.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].id, "quota-exhausted-empty-r9");
    assert_eq!(
        events[0].event,
        billing::events::DomainEvent::QuotaExhausted { run_id: "r9".into(), kind: "complex".into() }
    );
}
