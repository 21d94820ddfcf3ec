//! Operators granting and removing credits: once per key, audited, never below what holds reserve.

use billing_tests::operators::audit;
use billing_tests::{Reply, TestContext, TestServer};
use rust_decimal_macros::dec;
use serde_json::{Value, json};

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
