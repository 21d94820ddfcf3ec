use billing_tests::TestContext;
use futures::future::join_all;

#[tokio::test]
async fn twenty_concurrent_first_visits_create_exactly_one_account_and_agree_on_it() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("acme");

    let replies = join_all((0..20).map(|_| server.get("/api/billing/account/acme", Some(&token)))).await;

    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let first = &replies[0].json;
    assert!(replies.iter().all(|r| &r.json == first), "all twenty answers must be the same account");
    let accounts: Vec<_> = ctx
        .all_items()
        .await
        .into_iter()
        .filter(|item| item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk == "ACCOUNT"))
        .collect();
    assert_eq!(accounts.len(), 1, "exactly one account item exists");
    assert_eq!(accounts[0]["id"].as_s().unwrap(), first["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_new_account_starts_active_on_the_free_quota_with_no_credit() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;

    let reply = server.get("/api/billing/account/demo", Some(&server.tokens.member("demo"))).await;

    assert_eq!(reply.status, 200);
    let json = reply.json;
    assert_eq!(json["organization_id"], "demo");
    assert_eq!(json["status"], "active");
    assert_eq!(json["free_workflows_remaining"], 5);
    assert_eq!(json["free_workflows_reset_at"], "2026-12-01T00:00:00Z");
    assert_eq!(json["credit_balance"], 0.0);
    assert_eq!(json["stripe_customer_id"], serde_json::Value::Null);
    assert_eq!(json["has_payment_method"], false);
    assert_eq!(json["created_at"], "2026-11-23T09:30:00Z");
}

#[tokio::test]
async fn a_second_visit_returns_the_stored_account_unchanged() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("demo");

    let first = server.get("/api/billing/account/demo", Some(&token)).await;
    ctx.clock.advance(chrono::Duration::hours(3));
    let second = server.get("/api/billing/account/demo", Some(&token)).await;

    assert_eq!(first.json["id"], second.json["id"]);
    assert_eq!(second.json["created_at"], "2026-11-23T09:30:00Z");
    // The account, and its marker for the monthly close (written with the account, once).
    let keys: Vec<String> = ctx
        .all_items()
        .await
        .iter()
        .map(|i| i["SK"].as_s().unwrap().clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(keys, vec!["ACCOUNT".to_owned(), "CLOSE".to_owned()]);
    assert_eq!(ctx.all_items().await.len(), 2);
}
