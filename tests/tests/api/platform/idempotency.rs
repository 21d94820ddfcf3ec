//! `Idempotency-Key` on the POSTs that move money or change the plan: a repeat gets the first
//! answer, the same key on another request is refused, a failure on our side is not kept.

use billing_tests::{Reply, TestContext, TestServer};
use serde_json::{Value, json};

async fn context(stripe_base: &str) -> TestContext {
    TestContext::with_env(&[
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_API_BASE", stripe_base),
        ("FRONTEND_URL", "https://app.example.com"),
    ])
    .await
}

async fn buy(server: &TestServer, org: &str, key: &str, amount: Value) -> Reply {
    let response = server
        .http
        .post(format!("{}/api/billing/account/{org}/credits/checkout", server.url))
        .bearer_auth(server.tokens.owner(org))
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(json!({ "amount_usd": amount }).to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap_or(Value::Null);
    Reply { status, json, headers }
}

fn replayed(reply: &Reply) -> bool {
    reply.headers.get("idempotent-replayed").is_some()
}

#[tokio::test]
async fn a_repeated_request_gets_the_first_answer_and_a_reused_key_on_another_request_is_refused() {
    let ctx = context(&std::env::var("STRIPE_API_BASE").expect("stripe-mock runs in the test stack")).await;
    let server = ctx.serve().await;

    let first = buy(&server, "repeat", "order-1", json!(25)).await;
    let again = buy(&server, "repeat", "order-1", json!(25)).await;
    assert_eq!((first.status, replayed(&first)), (200, false), "{first:?}");
    assert_eq!((again.status, replayed(&again)), (200, true), "{again:?}");
    assert_eq!(again.json, first.json, "the same session, not a second one");

    let other = buy(&server, "repeat", "order-1", json!(30)).await;
    assert_eq!((other.status, other.json["code"].as_str()), (422, Some("idempotency_key_reused")), "{other:?}");

    // Keys belong to their organization.
    let elsewhere = buy(&server, "someone-else", "order-1", json!(30)).await;
    assert_eq!((elsewhere.status, replayed(&elsewhere)), (200, false), "{elsewhere:?}");

    // A refusal is an answer too: repeated as it was.
    let bad = buy(&server, "repeat", "order-2", json!(-1)).await;
    let bad_again = buy(&server, "repeat", "order-2", json!(-1)).await;
    assert_eq!((bad.status, bad_again.status, replayed(&bad_again)), (400, 400, true));

    let malformed = buy(&server, "repeat", "bad key with spaces", json!(25)).await;
    assert_eq!((malformed.status, malformed.json["code"].as_str()), (400, Some("invalid_idempotency_key")));
}

#[tokio::test]
async fn concurrent_repeats_run_the_request_once() {
    let ctx = context(&std::env::var("STRIPE_API_BASE").expect("stripe-mock runs in the test stack")).await;
    let server = ctx.serve().await;

    let replies = futures::future::join_all((0..8).map(|_| buy(&server, "rush", "double-click", json!(10)))).await;

    let ran: Vec<&Reply> = replies.iter().filter(|r| r.status == 200 && !replayed(r)).collect();
    assert_eq!(ran.len(), 1, "exactly one ran: {replies:?}");
    for reply in &replies {
        match reply.status {
            200 => assert_eq!(reply.json, ran[0].json),
            409 => assert_eq!(reply.json["code"], "idempotency_key_in_use"),
            other => panic!("unexpected {other}: {reply:?}"),
        }
    }
}

#[tokio::test]
async fn a_failure_on_our_side_is_not_kept_so_the_retry_runs_again() {
    // Nothing listens there: Stripe is down.
    let ctx = context("http://127.0.0.1:9").await;
    let server = ctx.serve().await;

    let first = buy(&server, "outage", "retry-me", json!(10)).await;
    let retry = buy(&server, "outage", "retry-me", json!(10)).await;

    assert_eq!((first.status, retry.status), (502, 502), "{first:?} {retry:?}");
    assert!(!replayed(&retry), "the retry ran again");
    assert!(ctx.all_items().await.iter().all(|i| !i["PK"].as_s().unwrap().starts_with("IDEMPOTENCY#")));
}
