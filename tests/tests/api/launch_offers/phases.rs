//! Launch-price phases: a pro subscription bought inside the catalog's New Year window pays
//! $0.59, then $12.99 for two months, then the tier's price — Checkout charges the first
//! phase and a Stripe schedule (asserted from the request Stripe receives) the rest; outside
//! the window the tier's price. The subscription view shows the phase in force and the next.
//! Cancelling during the phases releases the schedule, and reactivating renews at full price.

use billing_tests::accounts::tier;
use billing_tests::fake_stripe::FakeStripe;
use billing_tests::stripe_events::{SECRET, checkout as session, deliver, event, process_queue};
use billing_tests::{Reply, TestContext, TestServer};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

const SCHEDULE: &str = "sub_sched_launch";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

async fn context() -> (TestContext, FakeStripe) {
    let prices = [("STRIPE_PRICE_PRO", "price_pro"), ("STRIPE_PRICE_STARTER", "price_starter")];
    let (ctx, stripe) = TestContext::with_recorded_stripe(SECRET, &prices).await;
    stripe.answer("/v1/subscription_schedules", json!({ "id": SCHEDULE, "object": "subscription_schedule" }));
    (ctx, stripe)
}

async fn subscribe(server: &TestServer, org: &str) -> Reply {
    let path = format!("/api/billing/account/{org}/subscription/checkout");
    server.request("POST", &path, Some(&server.tokens.owner(org)), Some(json!({ "tier": "pro" }))).await
}

/// The subscription Checkout made at the intro price, as Stripe reports it.
fn intro_subscription(org: &str, start: i64, cancel_at_period_end: bool) -> Value {
    json!({ "id": format!("sub_{org}"), "object": "subscription", "customer": format!("cus_{org}"),
            "status": "active", "created": start, "cancel_at_period_end": cancel_at_period_end,
            "metadata": { "organization_id": org, "purpose": "subscription", "tier": "pro", "launch_offer": "new-year-2027" },
            "items": { "data": [{ "id": format!("si_{org}"), "price": { "id": "price_intro_59", "unit_amount": 59 },
                                   "current_period_start": start, "current_period_end": start + 31 * 86_400 }] } })
}

/// Checkout paid (twice delivered) and the subscription created: the schedule goes in.
async fn bought(ctx: &TestContext, server: &TestServer, stripe: &FakeStripe, org: &str) {
    let start = ctx.app.now().timestamp();
    stripe.answer(&format!("/v1/subscriptions/sub_{org}"), intro_subscription(org, start, false));
    let mut paid = session(
        &format!("cs_{org}"),
        org,
        "subscription",
        59,
        json!({ "tier": "pro", "launch_offer": "new-year-2027" }),
    );
    paid["subscription"] = json!(format!("sub_{org}"));
    for id in ["evt_paid", "evt_paid_again"] {
        let delivered =
            deliver(ctx, server, &event(&format!("{id}_{org}"), "checkout.session.completed", start, paid.clone()))
                .await;
        assert_eq!(delivered.status, 200);
    }
    let created = event(
        &format!("evt_created_{org}"),
        "customer.subscription.created",
        start,
        intro_subscription(org, start, false),
    );
    assert_eq!(deliver(ctx, server, &created).await.status, 200);
    process_queue(ctx).await;
}

async fn view(server: &TestServer, org: &str) -> Value {
    let reply = server.get(&format!("/api/billing/account/{org}/subscription"), Some(&server.tokens.member(org))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json
}

#[tokio::test]
async fn bought_in_the_window_it_runs_59_cents_then_12_99_twice_then_the_tier_price() {
    let (ctx, stripe) = context().await;
    let server = ctx.serve().await;
    ctx.clock.set(at(2027, 1, 10));
    ctx.account("newyear").await;

    // Checkout charges the first phase, monthly, on the tier's product, with no trial.
    assert_eq!(subscribe(&server, "newyear").await.status, 200);
    let form = stripe.forwarded("/v1/checkout/sessions")[0].clone();
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    assert_eq!(field("line_items[0][price_data][unit_amount]"), "59", "{form:?}");
    assert_eq!(field("line_items[0][price_data][recurring][interval]"), "month");
    assert!(field("line_items[0][price_data][product]").starts_with("prod_"), "{form:?}");
    assert_eq!(
        (field("line_items[0][price]"), field("subscription_data[trial_period_days]")),
        (String::new(), String::new())
    );
    assert_eq!(field("subscription_data[metadata][launch_offer]"), "new-year-2027");

    bought(&ctx, &server, &stripe, "newyear").await;
    assert_eq!(tier(&ctx, "newyear").await, "pro", "the intro price sells the pro tier");
    assert_eq!(stripe.forwarded("/v1/subscription_schedules").len(), 1, "one schedule however often Stripe reports");
    let phases = stripe.forwarded(&format!("/v1/subscription_schedules/{SCHEDULE}"));
    assert_eq!(phases.len(), 1);
    let phase = |k: &str| phases[0].get(k).cloned().unwrap_or_default();
    let ts = |t: DateTime<Utc>| t.timestamp().to_string();
    assert_eq!(
        [phase("phases[0][items][0][price]"), phase("phases[0][start_date]"), phase("phases[0][end_date]")],
        ["price_intro_59".to_owned(), ts(at(2027, 1, 10)), ts(at(2027, 2, 10))],
        "month 1 at the $0.59 Checkout charged"
    );
    assert_eq!(
        [
            phase("phases[1][items][0][price_data][unit_amount]"),
            phase("phases[1][items][0][price_data][recurring][interval]"),
            phase("phases[1][end_date]")
        ],
        ["1299".to_owned(), "month".to_owned(), ts(at(2027, 4, 10))],
        "months 2 and 3 at $12.99"
    );
    assert_eq!(
        [phase("phases[2][items][0][price]"), phase("phases[2][end_date]"), phase("end_behavior")],
        ["price_pro".to_owned(), String::new(), "release".to_owned()],
        "then the tier's price, for good"
    );

    let now = view(&server, "newyear").await;
    assert_eq!(now["current_price"], json!(0.59), "{now}");
    assert_eq!(
        (now["current_phase"]["price"].clone(), now["current_phase"]["name"].clone()),
        (json!(0.59), json!("New Year deal"))
    );
    assert_eq!(
        (now["next_phase"]["price"].clone(), now["next_phase"]["starts_at"].clone()),
        (json!(12.99), json!("2027-02-10T12:00:00Z"))
    );
    ctx.clock.set(at(2027, 3, 1));
    let later = view(&server, "newyear").await;
    assert_eq!(
        (later["current_price"].clone(), later["next_phase"]["price"].clone()),
        (json!(12.99), json!(79.0)),
        "{later}"
    );
    assert_eq!(later["next_phase"]["intro"], json!(false));
    ctx.clock.set(at(2027, 5, 1));
    let after = view(&server, "newyear").await;
    assert_eq!(
        (after["current_price"].clone(), after["current_phase"].clone(), after["next_phase"].clone()),
        (json!(79.0), Value::Null, Value::Null)
    );

    // Outside the window: the tier's price and its trial.
    ctx.account("late").await;
    assert_eq!(subscribe(&server, "late").await.status, 200);
    let form = stripe.forwarded("/v1/checkout/sessions").last().cloned().unwrap_or_default();
    assert_eq!(form.get("line_items[0][price]").map(String::as_str), Some("price_pro"), "{form:?}");
    assert_eq!(form.get("line_items[0][price_data][unit_amount]"), None);
    assert_eq!(form.get("subscription_data[trial_period_days]").map(String::as_str), Some("14"));
}

#[tokio::test]
async fn cancelling_during_the_phases_releases_the_schedule_and_reactivating_renews_at_full_price() {
    let (ctx, stripe) = context().await;
    let server = ctx.serve().await;
    ctx.clock.set(at(2027, 1, 20));
    ctx.account("quitter").await;
    bought(&ctx, &server, &stripe, "quitter").await;
    assert_eq!(view(&server, "quitter").await["current_price"], json!(0.59));

    let start = at(2027, 1, 20).timestamp();
    stripe.answer("/v1/subscriptions/sub_quitter", intro_subscription("quitter", start, true));
    let path = "/api/billing/account/quitter/subscription/cancel";
    let cancel = server.request("POST", path, Some(&server.tokens.owner("quitter")), Some(json!({}))).await;
    assert_eq!(cancel.status, 200, "{cancel:?}");
    assert_eq!(stripe.forwarded(&format!("/v1/subscription_schedules/{SCHEDULE}/release")).len(), 1);
    assert_eq!(cancel.json["cancel_at_period_end"], json!(true));
    assert_eq!(cancel.json["current_phase"], Value::Null, "the offer ended with the cancellation: {cancel:?}");

    stripe.answer("/v1/subscriptions/sub_quitter", intro_subscription("quitter", start, false));
    let path = "/api/billing/account/quitter/subscription/reactivate";
    let back = server.request("POST", path, Some(&server.tokens.owner("quitter")), Some(json!({}))).await;
    assert_eq!(back.status, 200, "{back:?}");
    let updates = stripe.forwarded("/v1/subscriptions/sub_quitter");
    let to_full: Vec<_> =
        updates.iter().filter(|f| f.get("items[0][price]").map(String::as_str) == Some("price_pro")).collect();
    assert_eq!(to_full.len(), 1, "{updates:?}");
    assert_eq!(to_full[0].get("proration_behavior").map(String::as_str), Some("none"), "from the next renewal");
    assert_eq!(tier(&ctx, "quitter").await, "pro");
}
