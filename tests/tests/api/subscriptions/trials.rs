//! Trials: the catalog's trial days are offered at checkout (a card only if required, and a
//! trial ending without one cancels), once per organization ever — recorded when Stripe first
//! reports `trialing`, so cancelling and subscribing again never starts a second trial — and
//! `TrialEnding` is announced once from Stripe's three-day notice.

use billing_tests::accounts::tier;
use billing_tests::stripe_events::{SECRET, deliver, event, process_queue, subscription_object};
use billing_tests::subscriptions::stored_subscription;
use billing_tests::{Reply, TestContext, TestServer};
use serde_json::{Value, json};

const DAY: i64 = 86_400;

async fn checkout(server: &TestServer, org: &str, tier: &str) -> Reply {
    let path = format!("/api/billing/account/{org}/subscription/checkout");
    server.request("POST", &path, Some(&server.tokens.owner(org)), Some(json!({ "tier": tier }))).await
}

fn trialing(org: &str, start: i64) -> Value {
    let mut sub = subscription_object(&format!("sub_{org}_1"), org, "price_pro", "trialing", start, start);
    sub["trial_start"] = json!(start);
    sub["trial_end"] = json!(start + 14 * DAY);
    sub
}

#[tokio::test]
async fn one_trial_per_organization_even_after_cancelling_and_subscribing_again() {
    let prices = [("STRIPE_PRICE_STARTER", "price_starter"), ("STRIPE_PRICE_PRO", "price_pro")];
    let (ctx, stripe) = TestContext::with_recorded_stripe(SECRET, &prices).await;
    let server = ctx.serve().await;
    ctx.account("trier").await;

    // The first pro checkout offers the catalog's 14 days; starter has no trial.
    assert_eq!(checkout(&server, "trier", "pro").await.status, 200);
    assert_eq!(checkout(&server, "trier", "starter").await.status, 200);
    let sessions = stripe.forwarded("/v1/checkout/sessions");
    let field = |i: usize, name: &str| sessions[i].get(name).cloned();
    assert_eq!(field(0, "subscription_data[trial_period_days]").as_deref(), Some("14"), "{sessions:?}");
    assert_eq!(field(0, "payment_method_collection").as_deref(), Some("if_required"));
    assert_eq!(
        field(0, "subscription_data[trial_settings][end_behavior][missing_payment_method]").as_deref(),
        Some("cancel")
    );
    assert_eq!(field(1, "subscription_data[trial_period_days]"), None, "starter has no trial");

    // Stripe reports the trial: recorded once, and the trial grants the tier's limits.
    let start = ctx.app.now().timestamp() - DAY;
    for (id, kind) in
        [("evt_t_created", "customer.subscription.created"), ("evt_t_again", "customer.subscription.updated")]
    {
        assert_eq!(deliver(&ctx, &server, &event(id, kind, start, trialing("trier", start))).await.status, 200);
    }
    process_queue(&ctx).await;
    assert_eq!(
        (tier(&ctx, "trier").await, stored_subscription(&ctx, "trier").await.status),
        ("pro".into(), "trialing".into())
    );
    let quota = server.get("/api/billing/account/trier/quota", Some(&server.tokens.member("trier"))).await;
    assert_eq!(
        (&quota.json["subscription"]["limit"], &quota.json["runs"]["limit"]),
        (&json!(100), &json!(5)),
        "{quota:?}"
    );
    let trials = ctx.items_with_prefix("TRIAL").await;
    assert_eq!(trials.len(), 1);
    assert_eq!(trials[0].get("subscription_id").and_then(|v| v.as_s().ok()).map(String::as_str), Some("sub_trier_1"));

    // Stripe's notice, delivered twice: announced once.
    for id in ["evt_t_will_end", "evt_t_will_end_again"] {
        let notice = event(id, "customer.subscription.trial_will_end", start + 11 * DAY, trialing("trier", start));
        assert_eq!(deliver(&ctx, &server, &notice).await.status, 200);
    }
    process_queue(&ctx).await;
    assert_eq!(ctx.outbox_events("TrialEnding").await, 1);

    // No card by the end: Stripe cancels, the account falls back to free.
    let mut ended = trialing("trier", start);
    ended["status"] = json!("canceled");
    deliver(&ctx, &server, &event("evt_t_deleted", "customer.subscription.deleted", start + 14 * DAY, ended)).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "trier").await, "free");

    // Subscribing again: no second trial.
    assert_eq!(checkout(&server, "trier", "pro").await.status, 200);
    let sessions = stripe.forwarded("/v1/checkout/sessions");
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions[2].get("subscription_data[trial_period_days]"), None, "{:?}", sessions[2]);
    assert_eq!(sessions[2].get("payment_method_collection"), None);
}
