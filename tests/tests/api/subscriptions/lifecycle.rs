//! The subscription lifecycle routes against stripe-mock, with Stripe's later word delivered
//! as signed webhook events: see, cancel, reactivate, change plan, preview and history.

use billing::costs::http::UsageMessage;
use billing::ids::OrganizationId;
use billing_tests::accounts::tier;
use billing_tests::stripe_events::{SECRET, deliver, event, process_queue, subscription_object};
use billing_tests::subscriptions::{SUBSCRIPTION_RESPONSE_FIELDS, stored_subscription};
use billing_tests::{Reply, TestContext, TestServer};
use chrono::Duration;
use serde_json::{Value, json};

async fn context() -> TestContext {
    let stripe_base = std::env::var("STRIPE_API_BASE").expect("stripe-mock runs in the test stack");
    TestContext::with_messaging(&[
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_API_BASE", &stripe_base),
        ("STRIPE_PRICE_STARTER", "price_starter"),
        ("STRIPE_PRICE_PRO", "price_pro"),
        ("STRIPE_PRICE_TEAM", "price_team"),
    ])
    .await
}

fn path(org: &str, rest: &str) -> String {
    format!("/api/billing/account/{org}/{rest}")
}

async fn call(server: &TestServer, method: &str, org: &str, rest: &str, body: Option<Value>) -> Reply {
    // The owner: members only read (the authorization matrix covers who may do what).
    let token = server.tokens.owner(org);
    server.request(method, &path(org, rest), Some(&token), body).await
}

const DAY: i64 = 86_400;

/// Subscribes `org` to `price` through Checkout's two events (same second, newest first, as
/// Stripe often sends them); returns the period start.
async fn subscribe(ctx: &TestContext, server: &TestServer, org: &str, price: &str) -> i64 {
    ctx.account(org).await;
    let start = ctx.app.now().timestamp() - 5 * DAY;
    let sub = |status: &str| subscription_object(&format!("sub_{org}"), org, price, status, start, start);
    deliver(ctx, server, &event(&format!("evt_{org}_u"), "customer.subscription.updated", start, sub("active"))).await;
    deliver(ctx, server, &event(&format!("evt_{org}_c"), "customer.subscription.created", start, sub("incomplete")))
        .await;
    ctx.app.store.link_customer(&OrganizationId::parse(org).unwrap(), &format!("cus_{org}"), None).await.unwrap();
    process_queue(ctx).await;
    start
}

/// A later `customer.subscription.updated` about `org`'s subscription.
fn updated(org: &str, id: &str, created: i64, price: &str, period_start: i64, extra: Value) -> Value {
    let mut sub = subscription_object(&format!("sub_{org}"), org, price, "active", created - 30 * DAY, period_start);
    sub["created"] = json!(period_start - 5 * DAY);
    if let (Some(sub), Value::Object(extra)) = (sub.as_object_mut(), extra) {
        sub.extend(extra);
    }
    event(id, "customer.subscription.updated", created, sub)
}

async fn history(server: &TestServer, org: &str) -> Vec<(String, String, String, String)> {
    let reply = call(server, "GET", org, "subscription/history", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |f: &str| c[f].as_str().unwrap_or_default().to_owned();
            (s("from_tier"), s("to_tier"), s("cause"), s("changed_by"))
        })
        .collect()
}

#[tokio::test]
async fn every_account_has_a_subscription_view_that_agrees_with_its_quota() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("plain").await;
    let free = call(&server, "GET", "plain", "subscription", None).await;
    assert_eq!(free.status, 200, "{free:?}");
    let account = ctx.stored_account("plain").await;
    assert_eq!(free.json["id"], format!("free_{}", account.id));
    assert_eq!(free.json["billing_account_id"], account.id);
    assert_eq!((free.json["tier"].as_str(), free.json["status"].as_str()), (Some("free"), Some("active")));
    assert_eq!((free.json["workflows_limit"].as_u64(), free.json["workflows_remaining"].as_u64()), (Some(5), Some(5)));
    assert_eq!((free.json["agents_limit"].as_u64(), free.json["storage_limit_gb"].as_u64()), (Some(1), Some(2)));
    assert_eq!(free.json["pending_change"], Value::Null);
    for field in SUBSCRIPTION_RESPONSE_FIELDS {
        assert!(free.json.get(field).is_some(), "SubscriptionResponse.{field} missing: {free:?}");
    }

    subscribe(&ctx, &server, "payer", "price_pro").await;
    ctx.update_account(
        "payer",
        "SET period_used = :n",
        &[(":n", aws_sdk_dynamodb::types::AttributeValue::N("7".into()))],
    )
    .await;
    let pro = call(&server, "GET", "payer", "subscription", None).await;
    let quota = call(&server, "GET", "payer", "quota", None).await;
    assert_eq!((pro.json["id"].as_str(), pro.json["tier"].as_str()), (Some("sub_payer"), Some("pro")), "{pro:?}");
    assert_eq!(pro.json["workflows_used"], quota.json["subscription"]["used"], "{pro:?} {quota:?}");
    assert_eq!(pro.json["workflows_limit"], quota.json["subscription"]["limit"]);
    assert_eq!((pro.json["workflows_used"].as_u64(), pro.json["workflows_remaining"].as_u64()), (Some(7), Some(93)));
    assert_eq!((pro.json["agents_limit"].as_u64(), pro.json["storage_limit_gb"].as_u64()), (Some(5), Some(50)));

    // Another organization's member sees nothing of it; no token is a 401.
    let outsider = server.tokens.member("plain");
    for (method, rest) in [
        ("GET", "subscription"),
        ("GET", "subscription/history"),
        ("GET", "subscription/preview?tier=team"),
        ("POST", "subscription/cancel"),
        ("POST", "subscription/reactivate"),
        ("POST", "subscription/change"),
    ] {
        let body = (method == "POST").then(|| json!({ "tier": "team" }));
        let reply = server.request(method, &path("payer", rest), Some(&outsider), body.clone()).await;
        assert_eq!(reply.status, 403, "{method} {rest}: {reply:?}");
        assert_eq!(server.request(method, &path("payer", rest), None, body).await.status, 401, "{method} {rest}");
    }
    assert_eq!(tier(&ctx, "payer").await, "pro");
    assert!(!stored_subscription(&ctx, "payer").await.cancel_at_period_end);
}

#[tokio::test]
async fn storage_snapshots_keep_the_latest_and_announce_each_crossing_of_the_limit_once() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("disk").await;
    let org = OrganizationId::parse("disk").unwrap();
    let t0 = ctx.app.now();
    let snapshot = |gb: &str, minutes: i64| {
        serde_json::from_value::<UsageMessage>(json!({
            "type": "storage_snapshot", "organization_id": "disk", "used_gb": serde_json::from_str::<Value>(gb).unwrap(),
            "recorded_at": t0 + Duration::minutes(minutes),
        }))
        .unwrap()
    };
    // Above the free plan's 2 GB, still above, an older one arriving late, below, above again.
    for (gb, minutes) in [("1.5", 0), ("3.25", 10), ("4", 20), ("0.5", 15), ("4", 20), ("1", 30), ("2.5", 40)] {
        billing::usage::flow::apply(&ctx.app, snapshot(gb, minutes)).await.unwrap();
    }
    let view = call(&server, "GET", "disk", "subscription", None).await;
    assert_eq!(view.json["storage_used_gb"], json!(2.5), "the latest snapshot: {view:?}");
    let crossings = ctx.items_with_prefix("OUTBOX#storage-").await;
    assert_eq!(crossings.len(), 2, "one per crossing from below: {crossings:?}");
    let stored = ctx.app.store.storage_snapshot(&org).await.unwrap().unwrap();
    assert!(stored.over_limit);

    let bad = serde_json::from_value::<UsageMessage>(json!({
        "type": "storage_snapshot", "organization_id": "disk", "used_gb": -1, "recorded_at": t0 + Duration::hours(1),
    }))
    .unwrap();
    assert!(matches!(billing::usage::flow::apply(&ctx.app, bad).await, Err(billing::lambda::MessageError::Reject(_))));
}

#[tokio::test]
async fn cancel_at_period_end_keeps_the_plan_until_stripe_ends_it_and_then_nothing_can_be_reactivated() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let start = subscribe(&ctx, &server, "leaver", "price_pro").await;

    let canceled =
        call(&server, "POST", "leaver", "subscription/cancel", Some(json!({ "reason": "too expensive" }))).await;
    assert_eq!(canceled.status, 200, "{canceled:?}");
    assert_eq!(canceled.json["cancel_at_period_end"], true);
    assert_eq!((canceled.json["tier"].as_str(), canceled.json["status"].as_str()), (Some("pro"), Some("active")));
    // Asking again changes nothing and calls nobody.
    let again = call(&server, "POST", "leaver", "subscription/cancel", None).await;
    assert_eq!((again.status, again.json["cancel_at_period_end"].as_bool()), (200, Some(true)));

    // Stripe's webhook for the same change agrees; the plan stays until the period ends.
    let now = ctx.app.now().timestamp();
    let echo = updated("leaver", "evt_leaver_cancel", now, "price_pro", start, json!({ "cancel_at_period_end": true }));
    deliver(&ctx, &server, &echo).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "leaver").await, "pro");
    assert!(stored_subscription(&ctx, "leaver").await.cancel_at_period_end);

    let end = start + 30 * DAY;
    ctx.clock.set(chrono::DateTime::from_timestamp(end + 60, 0).unwrap());
    let mut gone = subscription_object("sub_leaver", "leaver", "price_pro", "canceled", start - 5 * DAY, start);
    gone["cancel_at_period_end"] = json!(true);
    deliver(&ctx, &server, &event("evt_leaver_deleted", "customer.subscription.deleted", end, gone)).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "leaver").await, "free");
    let view = call(&server, "GET", "leaver", "subscription", None).await;
    assert_eq!((view.json["tier"].as_str(), view.json["workflows_limit"].as_u64()), (Some("free"), Some(5)));

    for rest in ["subscription/reactivate", "subscription/cancel"] {
        let reply = call(&server, "POST", "leaver", rest, None).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (409, Some("subscription_ended")), "{rest}: {reply:?}");
    }
    let changes = history(&server, "leaver").await;
    let leaver = "owner-leaver".to_owned();
    assert_eq!(
        changes,
        [
            ("pro".into(), "free".into(), "cancellation".into(), leaver),
            ("free".into(), "pro".into(), "checkout".into(), "stripe".into())
        ],
        "newest first, each once"
    );
}

#[tokio::test]
async fn reactivating_before_the_period_ends_keeps_the_plan() {
    let ctx = context().await;
    let server = ctx.serve().await;
    subscribe(&ctx, &server, "stayer", "price_pro").await;
    assert_eq!(call(&server, "POST", "stayer", "subscription/cancel", None).await.status, 200);

    let back = call(&server, "POST", "stayer", "subscription/reactivate", None).await;
    assert_eq!(back.status, 200, "{back:?}");
    assert_eq!((back.json["cancel_at_period_end"].as_bool(), back.json["tier"].as_str()), (Some(false), Some("pro")));
    let again = call(&server, "POST", "stayer", "subscription/reactivate", None).await;
    assert_eq!((again.status, again.json["cancel_at_period_end"].as_bool()), (200, Some(false)));
    assert!(!stored_subscription(&ctx, "stayer").await.cancel_at_period_end);
    assert_eq!(tier(&ctx, "stayer").await, "pro");
}

#[tokio::test]
async fn canceling_now_ends_the_plan_at_once_and_the_history_names_who_asked() {
    let ctx = context().await;
    let server = ctx.serve().await;
    subscribe(&ctx, &server, "quitter", "price_pro").await;

    let reply = call(&server, "POST", "quitter", "subscription/cancel", Some(json!({ "at_period_end": false }))).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json["tier"], "free");
    assert_eq!(stored_subscription(&ctx, "quitter").await.status, "canceled");
    assert_eq!(
        history(&server, "quitter").await[0],
        ("pro".into(), "free".into(), "cancellation".into(), "owner-quitter".into())
    );
}

#[tokio::test]
async fn an_upgrade_raises_the_limits_only_once_paid_and_keeps_the_usage_of_the_period() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let start = subscribe(&ctx, &server, "grower", "price_starter").await;
    ctx.update_account(
        "grower",
        "SET period_used = :n",
        &[(":n", aws_sdk_dynamodb::types::AttributeValue::N("12".into()))],
    )
    .await;

    let asked = call(&server, "POST", "grower", "subscription/change", Some(json!({ "tier": "pro" }))).await;
    assert_eq!(asked.status, 200, "{asked:?}");
    assert_eq!(asked.json["tier"], "starter", "not before the proration is paid");
    assert_eq!(asked.json["pending_change"], json!({ "tier": "pro", "effective_at": null, "awaiting_payment": true }));

    // The proration invoice fails: Stripe keeps the old price with a pending update.
    let now = ctx.app.now().timestamp();
    let pending =
        json!({ "pending_update": { "expires_at": now + DAY, "subscription_items": [{ "price": "price_pro" }] } });
    deliver(&ctx, &server, &updated("grower", "evt_grower_pending", now, "price_starter", start, pending)).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "grower").await, "starter", "a failed upgrade payment raises nothing");
    assert_eq!(ctx.stored_account("grower").await.period_used, 12);

    // Paid: Stripe moves the item to the new price in the same period.
    deliver(&ctx, &server, &updated("grower", "evt_grower_paid", now + 5, "price_pro", start, json!({}))).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "grower").await, "pro");
    let view = call(&server, "GET", "grower", "subscription", None).await;
    assert_eq!(
        (
            view.json["workflows_limit"].as_u64(),
            view.json["workflows_used"].as_u64(),
            view.json["agents_limit"].as_u64()
        ),
        (Some(100), Some(12), Some(5)),
        "{view:?}"
    );
    assert_eq!(view.json["pending_change"], Value::Null);
    assert_eq!(
        history(&server, "grower").await[0],
        ("starter".into(), "pro".into(), "upgrade".into(), "owner-grower".into())
    );
}

#[tokio::test]
async fn a_downgrade_waits_for_the_period_end() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let start = subscribe(&ctx, &server, "saver", "price_pro").await;
    let end = start + 30 * DAY;

    let asked = call(&server, "POST", "saver", "subscription/change", Some(json!({ "tier": "starter" }))).await;
    assert_eq!(asked.status, 200, "{asked:?}");
    assert_eq!(asked.json["tier"], "pro", "the customer keeps what they paid for");
    let effective = chrono::DateTime::from_timestamp(end, 0).unwrap();
    assert_eq!(
        asked.json["pending_change"],
        json!({ "tier": "starter", "effective_at": effective, "awaiting_payment": false })
    );
    assert_eq!(tier(&ctx, "saver").await, "pro");

    // At the period end the schedule switches the price and a new period starts.
    ctx.clock.set(chrono::DateTime::from_timestamp(end + 60, 0).unwrap());
    deliver(&ctx, &server, &updated("saver", "evt_saver_renewed", end, "price_starter", end, json!({}))).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "saver").await, "starter");
    let view = call(&server, "GET", "saver", "subscription", None).await;
    assert_eq!((view.json["workflows_limit"].as_u64(), view.json["pending_change"].clone()), (Some(20), Value::Null));
    assert_eq!(
        history(&server, "saver").await[0],
        ("pro".into(), "starter".into(), "downgrade".into(), "owner-saver".into())
    );
}

#[tokio::test]
async fn changes_that_make_no_sense_are_refused_with_a_clear_code_and_change_nothing() {
    let ctx = context().await;
    let server = ctx.serve().await;
    subscribe(&ctx, &server, "picky", "price_pro").await;
    ctx.account("nosub").await;
    let cases = [
        ("picky", json!({ "tier": "pro" }), 409, "same_tier"),
        ("picky", json!({ "tier": "free" }), 400, "use_cancel"),
        ("picky", json!({ "tier": "enterprise" }), 400, "invalid_tier"),
        ("picky", json!({ "tier": "lifetime" }), 400, "invalid_tier"),
        ("picky", json!({ "tier": "gold" }), 400, "invalid_tier"),
        ("picky", json!({ "tier": "byo" }), 409, "tier_unavailable"),
        ("picky", json!({}), 400, "invalid_body"),
        ("nosub", json!({ "tier": "team" }), 409, "no_subscription"),
    ];
    let before = ctx.all_items().await.len();
    for (org, body, status, code) in cases {
        let reply = call(&server, "POST", org, "subscription/change", Some(body.clone())).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (status, Some(code)), "{org} {body}: {reply:?}");
        assert!(reply.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let preview = call(&server, "GET", "picky", "subscription/preview?tier=pro", None).await;
    assert_eq!((preview.status, preview.json["code"].as_str()), (409, Some("same_tier")));
    assert_eq!(call(&server, "GET", "picky", "subscription/preview", None).await.status, 400);
    assert_eq!(call(&server, "POST", "nosub", "subscription/cancel", None).await.json["code"], "no_subscription");
    assert_eq!(ctx.all_items().await.len(), before, "nothing written");

    // With a cancellation pending, a change must wait for a reactivation.
    assert_eq!(call(&server, "POST", "picky", "subscription/cancel", None).await.status, 200);
    let reply = call(&server, "POST", "picky", "subscription/change", Some(json!({ "tier": "team" }))).await;
    assert_eq!((reply.status, reply.json["code"].as_str()), (409, Some("cancellation_pending")));
    // A second subscription while one is active is a plan change, not a checkout.
    let checkout = call(&server, "POST", "picky", "subscription/checkout", Some(json!({ "tier": "team" }))).await;
    assert_eq!((checkout.status, checkout.json["code"].as_str()), (409, Some("already_subscribed")), "{checkout:?}");
}

#[tokio::test]
async fn a_preview_tells_the_cost_now_and_next_period_and_writes_nothing() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let start = subscribe(&ctx, &server, "curious", "price_pro").await;
    let before = ctx.all_items().await;

    let up = call(&server, "GET", "curious", "subscription/preview?tier=team", None).await;
    let down = call(&server, "GET", "curious", "subscription/preview?tier=starter", None).await;

    assert_eq!(up.status, 200, "{up:?}");
    assert_eq!((up.json["direction"].as_str(), up.json["next_period_amount"].as_f64()), (Some("upgrade"), Some(199.0)));
    assert!(up.json["amount_due_now"].as_f64().is_some_and(|a| a >= 0.0), "Stripe's proration preview: {up:?}");
    assert_eq!((down.json["direction"].as_str(), down.json["amount_due_now"].as_f64()), (Some("downgrade"), Some(0.0)));
    assert_eq!(down.json["effective_at"], json!(chrono::DateTime::from_timestamp(start + 30 * DAY, 0).unwrap()));
    assert_eq!(ctx.all_items().await, before, "a preview changes nothing");
}

#[tokio::test]
async fn a_cancel_and_a_change_sent_together_end_in_one_consistent_outcome() {
    let ctx = context().await;
    let server = ctx.serve().await;
    for n in 0..4 {
        let org = format!("racer-{n}");
        subscribe(&ctx, &server, &org, "price_pro").await;
        let (cancel, change) = tokio::join!(
            call(&server, "POST", &org, "subscription/cancel", None),
            call(&server, "POST", &org, "subscription/change", Some(json!({ "tier": "starter" }))),
        );
        assert_eq!(cancel.status, 200, "{cancel:?}");
        // Whichever went first, the other saw its result: a change after the cancel is refused,
        // a cancel after the change drops the scheduled downgrade.
        assert!(
            change.status == 200
                || (change.status, change.json["code"].as_str()) == (409, Some("cancellation_pending")),
            "{change:?}"
        );
        let view = call(&server, "GET", &org, "subscription", None).await;
        assert_eq!(
            (
                view.json["cancel_at_period_end"].as_bool(),
                view.json["pending_change"].clone(),
                view.json["tier"].as_str()
            ),
            (Some(true), Value::Null, Some("pro")),
            "{org}: {view:?}"
        );
        assert!(ctx.items_with_prefix("SUBSCRIPTION#LOCK").await.is_empty(), "the lock is given back");
    }
}

#[tokio::test]
async fn cancel_then_change_and_change_then_cancel_end_in_the_same_state() {
    let ctx = context().await;
    let server = ctx.serve().await;
    subscribe(&ctx, &server, "first-cancel", "price_pro").await;
    subscribe(&ctx, &server, "first-change", "price_pro").await;
    let downgrade = Some(json!({ "tier": "starter" }));

    assert_eq!(call(&server, "POST", "first-cancel", "subscription/cancel", None).await.status, 200);
    let refused = call(&server, "POST", "first-cancel", "subscription/change", downgrade.clone()).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (409, Some("cancellation_pending")));

    let scheduled = call(&server, "POST", "first-change", "subscription/change", downgrade).await;
    assert_eq!(scheduled.json["pending_change"]["tier"], "starter", "{scheduled:?}");
    let canceled = call(&server, "POST", "first-change", "subscription/cancel", None).await;
    assert_eq!(canceled.status, 200, "{canceled:?}");

    for org in ["first-cancel", "first-change"] {
        let view = call(&server, "GET", org, "subscription", None).await;
        assert_eq!(
            (
                view.json["cancel_at_period_end"].as_bool(),
                view.json["pending_change"].clone(),
                view.json["tier"].as_str()
            ),
            (Some(true), Value::Null, Some("pro")),
            "{org}: {view:?}"
        );
    }
}

#[tokio::test]
async fn a_lock_left_by_a_crashed_request_expires_and_a_live_one_makes_others_wait_then_retry_later() {
    let ctx = context().await;
    let server = ctx.serve().await;
    subscribe(&ctx, &server, "locked", "price_pro").await;
    let org = OrganizationId::parse("locked").unwrap();
    let now = ctx.app.now();
    // A request that crashed holding the lock a minute ago.
    assert!(
        ctx.app
            .store
            .try_lock_subscription(&org, "crashed", now - Duration::minutes(2), now - Duration::minutes(1))
            .await
            .unwrap()
    );
    assert_eq!(call(&server, "POST", "locked", "subscription/cancel", None).await.status, 200);

    // A request that is still running holds it: the next one waits, then is told to retry.
    assert!(ctx.app.store.try_lock_subscription(&org, "running", now, now + Duration::minutes(1)).await.unwrap());
    let busy = call(&server, "POST", "locked", "subscription/reactivate", None).await;
    assert_eq!((busy.status, busy.json["code"].as_str()), (429, Some("subscription_busy")), "{busy:?}");
    assert!(busy.headers.contains_key("retry-after"));
    assert!(stored_subscription(&ctx, "locked").await.cancel_at_period_end, "the waiting request changed nothing");
    assert!(ctx.app.store.unlock_subscription(&org, "running").await.unwrap());
    assert_eq!(
        call(&server, "POST", "locked", "subscription/reactivate", None).await.json["cancel_at_period_end"],
        false
    );
}
