//! The prepaid balance and its ledger as members read them.

use billing_tests::accounts::path;
use billing_tests::purchases::stripe_mock_context;
use billing_tests::stripe_events::{checkout, deliver, event, process_queue, webhook_context};
use serde_json::{Value, json};

#[tokio::test]
async fn credits_show_the_balance_and_recent_ledger() {
    let ctx = stripe_mock_context(&[]).await;
    let server = ctx.serve().await;
    ctx.update_account(
        "ledger",
        "SET credit_balance_cents = :c, credit_held_cents = :h",
        &[
            (":c", aws_sdk_dynamodb::types::AttributeValue::N("1250".into())),
            (":h", aws_sdk_dynamodb::types::AttributeValue::N("1000".into())),
        ],
    )
    .await;

    let reply = server.get(&path("ledger", "credits"), Some(&server.tokens.member("ledger"))).await;

    assert_eq!(reply.json, json!({ "available": 12.5, "held": 10.0, "entries": [] }));
}

#[tokio::test]
async fn the_credits_ledger_names_the_checkout_session_that_bought_them() {
    // The page Checkout returns to waits for exactly this entry before it says "applied".
    let ctx = webhook_context().await;
    let server = ctx.serve().await;
    ctx.account("sess").await;
    let purchase =
        event("evt_sess", "checkout.session.completed", 1, checkout("cs_sess", "sess", "credits", 1_250, json!({})));
    deliver(&ctx, &server, &purchase).await;
    process_queue(&ctx).await;
    let grant = server
        .request_with_headers(
            "POST",
            "/api/billing/admin/accounts/sess/credits",
            Some(&server.tokens.admin()),
            Some(json!({ "amount_usd": 5, "reason": "goodwill" })),
            &[("Idempotency-Key", "sess-grant")],
        )
        .await;
    assert_eq!(grant.status, 200, "{grant:?}");

    let credits = server.get("/api/billing/account/sess/credits", Some(&server.tokens.member("sess"))).await;

    assert_eq!(credits.status, 200, "{credits:?}");
    let sessions: Vec<(&str, &Value)> = credits.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["kind"].as_str().unwrap_or_default(), &e["checkout_session_id"]))
        .collect();
    assert!(sessions.contains(&("purchase", &json!("cs_sess"))), "{sessions:?}");
    assert!(sessions.contains(&("grant", &Value::Null)), "an operator's grant names no session: {sessions:?}");
}
