//! Checkout routes against stripe-mock, which checks every request against Stripe's OpenAPI
//! description: sessions for catalog offers only, for the organization's own members, and
//! nothing half written when Stripe is down.

use billing_tests::TestContext;
use billing_tests::accounts::path;
use billing_tests::purchases::stripe_mock_context;
use serde_json::{Value, json};

#[tokio::test]
async fn credit_checkout_creates_the_customer_once_and_returns_a_session() {
    let ctx = stripe_mock_context(&[]).await;
    let server = ctx.serve().await;
    let token = server.tokens.owner("buyer");

    let first = server
        .request("POST", &path("buyer", "credits/checkout"), Some(&token), Some(json!({ "amount_usd": 25.5 })))
        .await;
    let second = server
        .request("POST", &path("buyer", "credits/checkout"), Some(&token), Some(json!({ "amount_usd": 1000 })))
        .await;

    assert_eq!((first.status, second.status), (200, 200), "{first:?}");
    assert!(first.json["checkout_url"].as_str().is_some_and(|u| !u.is_empty()), "{first:?}");
    assert!(first.json["session_id"].as_str().unwrap().starts_with("cs_"));
    let account = ctx.stored_account("buyer").await;
    let customer = account.stripe_customer_id.expect("customer linked");
    assert_eq!(ctx.app.store.org_for_customer(&customer).await.unwrap().unwrap().as_str(), "buyer");
}

#[tokio::test]
async fn bad_amounts_and_foreign_redirects_are_400s_that_create_nothing() {
    let ctx = stripe_mock_context(&[]).await;
    let server = ctx.serve().await;
    let token = server.tokens.owner("careful");
    for body in [
        json!({ "amount_usd": 0 }),
        json!({ "amount_usd": 1000.01 }),
        json!({ "amount_usd": -5 }),
        json!({ "amount_usd": "10" }),
        json!({ "amount_usd": 0.001 }),
        json!({}),
        json!({ "amount_usd": 10, "credits": 1000 }),
        json!({ "amount_usd": 10, "success_url": "https://evil.example/steal" }),
    ] {
        let reply =
            server.request("POST", &path("careful", "credits/checkout"), Some(&token), Some(body.clone())).await;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert!(reply.json["code"].is_string() && reply.json["detail"].is_string());
    }
    assert!(
        ctx.all_items().await.iter().all(|i| i.get("stripe_customer_id").is_none_or(|c| c.is_null())),
        "no customer was created"
    );
}

#[tokio::test]
async fn every_purchase_route_refuses_another_organizations_member() {
    let ctx = stripe_mock_context(&[]).await;
    let server = ctx.serve().await;
    let outsider = server.tokens.member("other");
    for (method, rest, body) in [
        ("POST", "credits/checkout", json!({ "amount_usd": 10 })),
        ("POST", "workflow-packs/checkout", json!({ "pack": 10 })),
        ("POST", "lifetime/checkout", json!({})),
        ("POST", "subscription/checkout", json!({ "tier": "pro" })),
        ("POST", "portal", json!({})),
        ("GET", "credits", Value::Null),
        ("POST", "payment-method", json!({ "payment_method_id": "pm_card_visa", "set_as_default": true })),
        ("GET", "payment-methods", Value::Null),
        ("DELETE", "payment-methods/pm_card_visa", Value::Null),
    ] {
        let body = (!body.is_null()).then_some(body);
        let reply = server.request(method, &path("victim", rest), Some(&outsider), body).await;
        assert_eq!(reply.status, 403, "{method} {rest}: {reply:?}");
    }
    assert!(ctx.all_items().await.is_empty());
}

#[tokio::test]
async fn packs_lifetime_subscriptions_and_the_portal_start_sessions_for_catalog_offers_only() {
    let ctx = stripe_mock_context(&[]).await;
    let server = ctx.serve().await;
    let token = server.tokens.owner("shop");
    let ok = |rest: &'static str, body: Value| {
        let (server, token) = (&server, &token);
        async move { server.request("POST", &path("shop", rest), Some(token), Some(body)).await }
    };

    assert_eq!(ok("workflow-packs/checkout", json!({ "pack": 50 })).await.status, 200);
    assert_eq!(ok("lifetime/checkout", json!({})).await.status, 200);
    assert_eq!(ok("subscription/checkout", json!({ "tier": "pro" })).await.status, 200);
    let portal = ok("portal", json!({ "return_url": "https://app.example.com/settings" })).await;
    assert!(portal.json["portal_url"].as_str().is_some_and(|u| u.starts_with("http")), "{portal:?}");

    assert_eq!(ok("workflow-packs/checkout", json!({ "pack": 7 })).await.json["code"], "unknown_pack");
    assert_eq!(ok("subscription/checkout", json!({ "tier": "enterprise" })).await.json["code"], "invalid_tier");
    assert_eq!(ok("subscription/checkout", json!({ "tier": "free" })).await.json["code"], "invalid_tier");
    // A subscribable tier without a configured price cannot be sold.
    assert_eq!(ok("subscription/checkout", json!({ "tier": "team" })).await.status, 503);
}

#[tokio::test]
async fn a_stripe_outage_is_a_502_that_leaves_nothing_half_written() {
    let ctx =
        TestContext::with_env(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", "http://127.0.0.1:9")]).await;
    let server = ctx.serve().await;

    let reply = server
        .request(
            "POST",
            &path("offline", "credits/checkout"),
            Some(&server.tokens.owner("offline")),
            Some(json!({ "amount_usd": 10 })),
        )
        .await;

    assert_eq!((reply.status, reply.json["code"].as_str()), (502, Some("payment_provider_error")), "{reply:?}");
    assert!(!reply.json["detail"].as_str().unwrap().contains("127.0.0.1"), "no internals in the message");
    assert_eq!(ctx.stored_account("offline").await.stripe_customer_id, None);
}
