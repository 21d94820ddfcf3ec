//! Operators suspending and lifting a suspension, audited with who and why, and the trail.

use billing_tests::operators::audit;
use billing_tests::quota::reserve_over_http;
use billing_tests::{Reply, TestContext, TestServer};
use serde_json::{Value, json};

async fn admin_post(server: &TestServer, org: &str, action: &str, body: Option<Value>) -> Reply {
    let path = format!("/api/billing/admin/accounts/{org}/{action}");
    server.request("POST", &path, Some(&server.tokens.admin()), body).await
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
    let refused = reserve_over_http(&server, "ops-a", "run-1").await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (403, Some("account_suspended")), "{refused:?}");
    let again = admin_post(&server, "ops-a", "suspend", Some(json!({ "reason": "twice" }))).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("already_suspended")));
    assert_eq!(ctx.items_with_prefix("OUTBOX#suspended-operator-").await.len(), 1, "one AccountSuspended");

    let lifted = admin_post(&server, "ops-a", "unsuspend", Some(json!({ "reason": "review cleared" }))).await;
    assert_eq!((lifted.status, &lifted.json["status"]), (200, &json!("active")), "{lifted:?}");
    assert_eq!(reserve_over_http(&server, "ops-a", "run-2").await.status, 201);
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
