//! The Stripe webhook pipeline: signature checks, deduplication, the FIFO hand-off and the
//! processor's effects, with payloads signed here the way Stripe signs them.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::payments::webhook::sign;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing_tests::{TestContext, TestServer};
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "whsec_test_pipeline";

async fn context() -> TestContext {
    let stripe_base = std::env::var("STRIPE_API_BASE").unwrap_or_default();
    TestContext::with_messaging(&[
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_API_BASE", &stripe_base),
        ("STRIPE_PRICE_STARTER", "price_starter"),
        ("STRIPE_PRICE_PRO", "price_pro"),
    ])
    .await
}

pub(crate) fn now_ts(ctx: &TestContext) -> i64 {
    ctx.app.now().timestamp()
}

async fn post(server: &TestServer, payload: &str, signature: Option<&str>) -> billing_tests::Reply {
    let mut request = server.http.post(format!("{}/api/billing/webhook", server.url)).body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap_or(Value::Null);
    billing_tests::Reply { status, json, headers }
}

pub(crate) async fn deliver(ctx: &TestContext, server: &TestServer, event: &Value) -> billing_tests::Reply {
    let payload = event.to_string();
    post(server, &payload, Some(&sign(&payload, SECRET, now_ts(ctx)))).await
}

/// Runs the FIFO queue through the processor until it is empty, like the event source mapping.
pub(crate) async fn process_queue(ctx: &TestContext) -> usize {
    let resources = ctx.resources.as_ref().unwrap();
    let (url, arn) = (&resources.queue_urls["StripeEventsQueue"], &resources.queue_arns["StripeEventsQueue"]);
    let mut total = 0;
    loop {
        let n = local_server::pump::pump_once(&ctx.app, url, arn, &sqs_stripe_events::handle).await.unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

pub(crate) fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({ "id": id, "object": "event", "type": kind, "created": created, "livemode": false, "pending_webhooks": 1,
            "api_version": "2025-03-31.basil", "data": { "object": object } })
}

pub(crate) fn checkout(id: &str, org: &str, purpose: &str, amount: i64, extra: Value) -> Value {
    let mut metadata = json!({ "organization_id": org, "purpose": purpose });
    if let (Some(m), Value::Object(more)) = (metadata.as_object_mut(), extra) {
        m.extend(more);
    }
    json!({ "id": id, "object": "checkout.session", "payment_status": "paid", "amount_total": amount,
            "customer": format!("cus_{org}"), "payment_intent": format!("pi_{id}"), "metadata": metadata })
}

fn subscription(org: &str, price: &str, status: &str, period_start: i64) -> Value {
    json!({ "id": format!("sub_{org}"), "object": "subscription", "customer": format!("cus_{org}"), "status": status,
            "cancel_at_period_end": false, "metadata": { "organization_id": org },
            "items": { "data": [{ "price": { "id": price }, "current_period_start": period_start, "current_period_end": period_start + 2_592_000 }] } })
}

#[tokio::test]
async fn unsigned_forged_and_stale_deliveries_are_refused_and_leave_nothing_behind() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let payload = event("evt_bad", "checkout.session.completed", 1, json!({})).to_string();
    let now = now_ts(&ctx);

    let cases = [
        (None, "missing_signature"),
        (Some(sign(&payload, "whsec_someone_else", now)), "invalid_signature"),
        (Some(sign(&payload.replace("evt_bad", "evt_evil"), SECRET, now)), "invalid_signature"),
        (Some(sign(&payload, SECRET, now - 301)), "stale_signature"),
        (Some("t=not-a-time,v1=abc".to_owned()), "invalid_signature"),
    ];
    for (signature, code) in cases {
        let reply = post(&server, &payload, signature.as_deref()).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (400, Some(code)), "{signature:?}");
    }
    assert!(ctx.all_items().await.is_empty(), "nothing stored before the signature is verified");
    assert_eq!(process_queue(&ctx).await, 0, "nothing queued");
}

#[tokio::test]
async fn during_a_secret_roll_either_signature_is_accepted() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let payload = event("evt_roll", "customer.created", 1, json!({})).to_string();
    let v1 = |secret: &str| sign(&payload, secret, now_ts(&ctx)).split(",v1=").nth(1).unwrap().to_owned();
    let header = format!("t={},v1={},v1={}", now_ts(&ctx), v1("whsec_retiring"), v1(SECRET));

    let reply = post(&server, &payload, Some(&header)).await;

    assert_eq!(reply.status, 200, "{reply:?}");
}

#[tokio::test]
async fn a_duplicate_delivery_is_acknowledged_and_applied_once() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("dup").await;
    let purchase =
        event("evt_dup", "checkout.session.completed", 10, checkout("cs_dup", "dup", "credits", 2_500, json!({})));

    let first = deliver(&ctx, &server, &purchase).await;
    let second = deliver(&ctx, &server, &purchase).await;
    assert_eq!((first.status, &first.json["duplicate"]), (200, &json!(false)));
    assert_eq!((second.status, &second.json["duplicate"]), (200, &json!(true)));
    assert_eq!(process_queue(&ctx).await, 1, "one message handed off");
    // Even a redelivery of the queued message changes nothing twice.
    let third = deliver(&ctx, &server, &purchase).await;
    assert_eq!(third.json["duplicate"], json!(true));

    let account = ctx.stored_account("dup").await;
    assert_eq!((account.credit_balance_cents, account.stripe_customer_id.as_deref()), (2_500, Some("cus_dup")));
    assert_eq!(ctx.items_with_prefix("LEDGER#").await.len(), 1);
}

#[tokio::test]
async fn a_late_hand_off_record_never_moves_a_processed_event_back_to_queued() {
    // The queue may deliver the event and the processor finish it before the webhook has
    // written `queued` (found by the browser tests: the processor won the race, and the
    // marker said `queued` for good).
    let ctx = context().await;
    let store = &ctx.app.store;
    let id = "evt_race";
    assert!(store.set_stripe_event_status(id, "processed").await.unwrap(), "processed is always written");

    let moved = store.set_stripe_event_status(id, "queued").await.unwrap();

    assert!(!moved, "a late queued is refused");
    assert_eq!(store.stripe_event_status(id).await.unwrap().as_deref(), Some("processed"));
    assert!(store.set_stripe_event_status("evt_fresh", "queued").await.unwrap(), "a new marker moves forward");
    assert_eq!(store.stripe_event_status("evt_fresh").await.unwrap().as_deref(), Some("queued"));
}

#[tokio::test]
async fn the_credits_ledger_names_the_checkout_session_that_bought_them() {
    // The page Checkout returns to waits for exactly this entry before it says "applied".
    let ctx = context().await;
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

#[tokio::test]
async fn workflow_packs_and_lifetime_purchases_apply_the_catalog() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("packs").await;
    deliver(
        &ctx,
        &server,
        &event(
            "evt_p10",
            "checkout.session.completed",
            1,
            checkout("cs_p10", "packs", "pack", 10_000, json!({ "pack": "10" })),
        ),
    )
    .await;
    deliver(
        &ctx,
        &server,
        &event(
            "evt_p50",
            "checkout.session.completed",
            2,
            checkout("cs_p50", "packs", "pack", 40_000, json!({ "pack": "50" })),
        ),
    )
    .await;
    deliver(
        &ctx,
        &server,
        &event(
            "evt_life",
            "checkout.session.completed",
            3,
            checkout("cs_life", "packs", "lifetime", 49_900, json!({})),
        ),
    )
    .await;
    process_queue(&ctx).await;

    let account = ctx.stored_account("packs").await;
    // 10 and 50 standard runs at $10 each.
    assert_eq!(account.credit_balance_cents, 60_000);
    assert_eq!(account.tier.as_str(), "lifetime");

    // A lifetime account is not downgraded by a subscription ending.
    deliver(
        &ctx,
        &server,
        &event("evt_del", "customer.subscription.deleted", 4, subscription("packs", "price_pro", "canceled", 1)),
    )
    .await;
    process_queue(&ctx).await;
    assert_eq!(ctx.stored_account("packs").await.tier.as_str(), "lifetime");
}

#[tokio::test]
async fn an_older_subscription_event_never_overwrites_newer_state() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.update_account("subs", "SET period_used = :n", &[(":n", AttributeValue::N("7".into()))]).await;
    // The subscription's period starts after the month the account has counted so far.
    let period_start = now_ts(&ctx) - 100;
    let newer = event(
        "evt_new",
        "customer.subscription.updated",
        2_000,
        subscription("subs", "price_starter", "active", period_start),
    );
    let older = event(
        "evt_old",
        "customer.subscription.updated",
        1_000,
        subscription("subs", "price_pro", "active", period_start),
    );

    deliver(&ctx, &server, &newer).await;
    deliver(&ctx, &server, &older).await;
    process_queue(&ctx).await;

    let account = ctx.stored_account("subs").await;
    assert_eq!(account.tier.as_str(), "starter");
    assert_eq!(account.period_used, 0, "a new subscription period starts usage again");
    let sub = ctx.app.store.subscription(&OrganizationId::parse("subs").unwrap()).await.unwrap().unwrap();
    assert_eq!((sub.tier.as_str(), sub.source_event_created), ("starter", 2_000));

    // Deletion sends the account back to the free tier.
    deliver(
        &ctx,
        &server,
        &event(
            "evt_gone",
            "customer.subscription.deleted",
            3_000,
            subscription("subs", "price_starter", "canceled", period_start),
        ),
    )
    .await;
    process_queue(&ctx).await;
    assert_eq!(ctx.stored_account("subs").await.tier.as_str(), "free");
}

#[tokio::test]
async fn a_refund_after_partial_consumption_leaves_an_honest_negative_balance() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.update_account("refund", "SET free_remaining = :z", &[(":z", AttributeValue::N("0".into()))]).await;
    deliver(
        &ctx,
        &server,
        &event("evt_buy", "checkout.session.completed", 1, checkout("cs_buy", "refund", "credits", 5_000, json!({}))),
    )
    .await;
    process_queue(&ctx).await;
    let org = OrganizationId::parse("refund").unwrap();
    for run in ["a", "b", "c"] {
        let request = ReserveRequest { run_id: run.into(), kind: RunKind::Standard, estimated_cost_cents: None };
        ctx.app.store.reserve(&org, &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await.unwrap();
        ctx.app.store.commit(&org, run, None, false, None, ctx.app.now()).await.unwrap();
    }
    assert_eq!(ctx.stored_account("refund").await.credit_balance_cents, 2_000);

    let charge = |refunded: i64| json!({ "id": "ch_1", "object": "charge", "customer": "cus_refund", "payment_intent": "pi_cs_buy", "amount": 5_000, "amount_refunded": refunded });
    deliver(&ctx, &server, &event("evt_r1", "charge.refunded", 2, charge(2_000))).await;
    deliver(&ctx, &server, &event("evt_r2", "charge.refunded", 3, charge(5_000))).await;
    deliver(&ctx, &server, &event("evt_r2b", "charge.refunded", 4, charge(5_000))).await;
    process_queue(&ctx).await;

    let account = ctx.stored_account("refund").await;
    assert_eq!(account.credit_balance_cents, -3_000, "the $30 already spent is owed, not hidden");
    let ledger: i64 = ctx
        .items_with_prefix("LEDGER#")
        .await
        .iter()
        .map(|e| e["amount_cents"].as_n().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(ledger, account.credit_balance_cents + account.credit_held_cents, "balance = sum of ledger");
}

#[tokio::test]
async fn repeated_payment_failures_suspend_the_account_and_a_payment_reactivates_it() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let spy = ctx.event_spy().await;
    ctx.account("dunning").await;
    ctx.app.store.link_customer(&OrganizationId::parse("dunning").unwrap(), "cus_dunning", None).await.unwrap();
    let invoice = |attempts: i64| json!({ "id": "in_1", "object": "invoice", "customer": "cus_dunning", "attempt_count": attempts, "amount_due": 7_900, "billing_reason": "subscription_cycle" });
    for attempt in 1..=3 {
        deliver(
            &ctx,
            &server,
            &event(&format!("evt_fail{attempt}"), "invoice.payment_failed", attempt, invoice(attempt)),
        )
        .await;
    }
    process_queue(&ctx).await;
    assert_eq!(ctx.stored_account("dunning").await.status.as_str(), "suspended");
    let refused = server
        .request(
            "POST",
            "/api/billing/internal/quota/dunning/reservations",
            Some(&server.service_token()),
            Some(json!({ "run_id": "r", "kind": "standard" })),
        )
        .await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (403, Some("account_suspended")));

    let mut paid = invoice(4);
    paid["lines"] = json!({ "data": [{ "period": { "start": 1_800_000_000 } }] });
    deliver(&ctx, &server, &event("evt_paid", "invoice.paid", 10, paid)).await;
    process_queue(&ctx).await;

    assert_eq!(ctx.stored_account("dunning").await.status.as_str(), "active");
    let payments = ctx.items_with_prefix("PAYMENT#").await;
    assert_eq!(payments.len(), 1, "the paid invoice is recorded");
    let mut outbox = ctx.outbox().await;
    ctx.drain_outbox(&mut outbox, &ctx.app).await;
    let events = spy.events().await;
    let names: Vec<&str> = events.iter().map(|e| e.event.name()).collect();
    assert_eq!(names.iter().filter(|n| **n == "PaymentFailed").count(), 3);
    assert_eq!(names.iter().filter(|n| **n == "AccountSuspended").count(), 1);
    assert_eq!(names.iter().filter(|n| **n == "AccountReactivated").count(), 1);
}

#[tokio::test]
async fn a_failed_hand_off_answers_5xx_and_leaves_no_duplicate_marker() {
    let broken = TestContext::with_messaging(&[
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("STRIPE_EVENTS_QUEUE_URL", "http://127.0.0.1:9/000000000000/missing.fifo"),
    ])
    .await;
    let server = broken.serve().await;
    let purchase =
        event("evt_lost", "checkout.session.completed", 1, checkout("cs_lost", "x", "credits", 100, json!({})));

    let reply = deliver(&broken, &server, &purchase).await;

    assert_eq!(reply.status, 503, "{reply:?}");
    assert!(
        broken.app.store.stripe_event_status("evt_lost").await.unwrap().is_none(),
        "Stripe's retry must not look like a duplicate"
    );
}

/// An org whose Stripe customer is linked, with a helper for its invoice events.
async fn dunning_org(ctx: &TestContext, org: &str) {
    ctx.account(org).await;
    ctx.app.store.link_customer(&OrganizationId::parse(org).unwrap(), &format!("cus_{org}"), None).await.unwrap();
}

fn invoice_event(id: &str, kind: &str, created: i64, org: &str, invoice: &str, attempts: i64) -> Value {
    event(
        id,
        kind,
        created,
        json!({ "id": invoice, "object": "invoice", "customer": format!("cus_{org}"), "attempt_count": attempts,
                "amount_due": 7_900, "amount_paid": if kind == "invoice.paid" { 7_900 } else { 0 },
                "billing_reason": "subscription_cycle" }),
    )
}

/// Applies an event straight through the processor, as a redelivery from the queue would
/// (the webhook's dedupe marker does not stop it).
async fn redeliver_to_processor(ctx: &TestContext, event: &Value) {
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();
}

async fn status(ctx: &TestContext, org: &str) -> String {
    ctx.stored_account(org).await.status.as_str().to_owned()
}

/// Distinct envelope ids per event type seen by the spy (subscribers dedupe on the id).
fn distinct_ids(events: &[billing::events::Envelope], name: &str) -> std::collections::BTreeSet<String> {
    events.iter().filter(|e| e.event.name() == name).map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn a_payment_failure_redelivered_after_its_invoice_was_paid_never_suspends_the_account() {
    let ctx = context().await;
    let server = ctx.serve().await;
    dunning_org(&ctx, "latefail").await;
    let failed =
        |n: i64| invoice_event(&format!("evt_lf{n}"), "invoice.payment_failed", 100 + n, "latefail", "in_lf", n);
    for attempt in 1..=2 {
        deliver(&ctx, &server, &failed(attempt)).await;
    }
    let paid = invoice_event("evt_lf_paid", "invoice.paid", 200, "latefail", "in_lf", 3);
    deliver(&ctx, &server, &paid).await;
    // Attempt 3 (older than the payment) arrives last, and again, and again straight from the queue.
    deliver(&ctx, &server, &failed(3)).await;
    deliver(&ctx, &server, &failed(3)).await;
    process_queue(&ctx).await;
    redeliver_to_processor(&ctx, &failed(3)).await;
    let mut replayed = failed(3);
    replayed["id"] = json!("evt_lf3_again");
    redeliver_to_processor(&ctx, &replayed).await;

    assert_eq!(status(&ctx, "latefail").await, "active", "a paid-up account stays active");
    let suspended: Vec<_> = ctx.items_with_prefix("OUTBOX#suspended-").await;
    assert!(suspended.is_empty(), "no AccountSuspended was written: {suspended:?}");
}

#[tokio::test]
async fn a_payment_never_lifts_a_suspension_made_for_another_reason() {
    let ctx = context().await;
    let server = ctx.serve().await;
    dunning_org(&ctx, "manual").await;
    ctx.update_account("manual", "SET #status = :s", &[(":s", AttributeValue::S("suspended".into()))]).await;

    deliver(&ctx, &server, &invoice_event("evt_m_paid", "invoice.paid", 10, "manual", "in_m", 1)).await;
    process_queue(&ctx).await;

    assert_eq!(status(&ctx, "manual").await, "suspended");
    assert!(ctx.items_with_prefix("OUTBOX#reactivated-").await.is_empty(), "no AccountReactivated");
}

#[tokio::test]
async fn paying_one_invoice_keeps_the_account_suspended_while_another_is_still_unpaid() {
    let ctx = context().await;
    let server = ctx.serve().await;
    dunning_org(&ctx, "twoinv").await;
    for (invoice, base) in [("in_a", 100), ("in_b", 200)] {
        for attempt in 1..=3 {
            let id = format!("evt_{invoice}_{attempt}");
            deliver(
                &ctx,
                &server,
                &invoice_event(&id, "invoice.payment_failed", base + attempt, "twoinv", invoice, attempt),
            )
            .await;
        }
    }
    process_queue(&ctx).await;
    assert_eq!(status(&ctx, "twoinv").await, "suspended");

    deliver(&ctx, &server, &invoice_event("evt_a_paid", "invoice.paid", 300, "twoinv", "in_a", 4)).await;
    process_queue(&ctx).await;
    assert_eq!(status(&ctx, "twoinv").await, "suspended", "in_b still holds the suspension");

    deliver(&ctx, &server, &invoice_event("evt_b_paid", "invoice.paid", 400, "twoinv", "in_b", 4)).await;
    process_queue(&ctx).await;
    assert_eq!(status(&ctx, "twoinv").await, "active");
    assert_eq!(ctx.items_with_prefix("OUTBOX#suspended-").await.len(), 1, "suspended once");
    assert_eq!(ctx.items_with_prefix("OUTBOX#reactivated-").await.len(), 1, "reactivated once");
}

#[tokio::test]
async fn a_failure_and_a_payment_in_the_same_second_leave_the_account_active_in_either_order() {
    let ctx = context().await;
    let server = ctx.serve().await;
    for (org, paid_first) in [("samesec1", true), ("samesec2", false)] {
        dunning_org(&ctx, org).await;
        for attempt in 1..=2 {
            let id = format!("evt_{org}_{attempt}");
            deliver(&ctx, &server, &invoice_event(&id, "invoice.payment_failed", 100 + attempt, org, "in_s", attempt))
                .await;
        }
        let third = invoice_event(&format!("evt_{org}_3"), "invoice.payment_failed", 500, org, "in_s", 3);
        let paid = invoice_event(&format!("evt_{org}_paid"), "invoice.paid", 500, org, "in_s", 3);
        let order = if paid_first { [&paid, &third] } else { [&third, &paid] };
        for event in order.into_iter().chain(order) {
            deliver(&ctx, &server, event).await;
        }
        process_queue(&ctx).await;
        redeliver_to_processor(&ctx, &third).await;
        assert_eq!(status(&ctx, org).await, "active", "{org}: paid first = {paid_first}");
    }
}

#[tokio::test]
async fn every_committed_stripe_status_change_is_announced_exactly_once_despite_failing_put_events() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let spy = ctx.event_spy().await;
    dunning_org(&ctx, "outbox").await;
    for attempt in 1..=3 {
        let id = format!("evt_o{attempt}");
        deliver(&ctx, &server, &invoice_event(&id, "invoice.payment_failed", 100 + attempt, "outbox", "in_o", attempt))
            .await;
    }
    deliver(&ctx, &server, &invoice_event("evt_o_paid", "invoice.paid", 200, "outbox", "in_o", 4)).await;
    // The processor commits the changes with their outbox items; nothing is published yet.
    process_queue(&ctx).await;
    assert_eq!(status(&ctx, "outbox").await, "active");
    assert!(spy.events().await.is_empty(), "nothing reaches the bus before the stream delivers it");
    // Redelivering to the processor changes nothing, so it writes no new outbox item.
    redeliver_to_processor(&ctx, &invoice_event("evt_o_paid2", "invoice.paid", 200, "outbox", "in_o", 4)).await;

    let (failing, injector) = ctx.with_failing_put_events(4);
    let mut outbox = ctx.outbox().await;
    let passes = ctx.drain_outbox(&mut outbox, &failing).await;

    assert_eq!(injector.injected(), 4, "the first four PutEvents calls failed");
    assert!(passes.iter().filter(|p| p.failed > 0).count() >= 4, "each failure was retried: {passes:?}");
    let events = spy.events().await;
    assert_eq!(
        distinct_ids(&events, "PaymentFailed"),
        ["payment-failed-in_o-1", "payment-failed-in_o-2", "payment-failed-in_o-3"].map(String::from).into()
    );
    assert_eq!(distinct_ids(&events, "AccountSuspended"), ["suspended-in_o-3".to_owned()].into());
    assert_eq!(distinct_ids(&events, "AccountReactivated"), ["reactivated-in_o".to_owned()].into());
    assert_eq!(events.len(), 5, "nothing published twice: {events:?}");
    assert!(events.iter().all(|e| e.organization_id.as_str() == "outbox"), "{events:?}");
}

#[tokio::test]
async fn a_delayed_checkout_payment_grants_credits_once_when_it_succeeds() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("delayed").await;
    let mut session = checkout("cs_delayed", "delayed", "credits", 4_000, json!({}));
    session["payment_status"] = json!("unpaid");
    deliver(&ctx, &server, &event("evt_d_done", "checkout.session.completed", 1, session.clone())).await;
    process_queue(&ctx).await;
    assert_eq!(ctx.stored_account("delayed").await.credit_balance_cents, 0, "nothing before the money arrives");

    session["payment_status"] = json!("paid");
    let succeeded = event("evt_d_ok", "checkout.session.async_payment_succeeded", 5, session.clone());
    deliver(&ctx, &server, &succeeded).await;
    deliver(&ctx, &server, &succeeded).await;
    process_queue(&ctx).await;
    assert_eq!(ctx.stored_account("delayed").await.credit_balance_cents, 4_000, "granted when the money arrives");

    // A second notice of the same payment under another event id, and a late paid completion.
    deliver(&ctx, &server, &event("evt_d_ok2", "checkout.session.async_payment_succeeded", 6, session.clone())).await;
    deliver(&ctx, &server, &event("evt_d_done2", "checkout.session.completed", 7, session)).await;
    process_queue(&ctx).await;

    assert_eq!(ctx.stored_account("delayed").await.credit_balance_cents, 4_000, "never granted twice");
    assert_eq!(ctx.items_with_prefix("LEDGER#").await.len(), 1, "one purchase entry");
}

#[tokio::test]
async fn a_delayed_lifetime_payment_that_succeeds_grants_the_plan_and_a_failed_one_grants_nothing() {
    let ctx = context().await;
    let server = ctx.serve().await;
    for org in ["lifeok", "lifebad"] {
        ctx.account(org).await;
        let mut session = checkout(&format!("cs_{org}"), org, "lifetime", 49_900, json!({}));
        session["payment_status"] = json!("unpaid");
        deliver(&ctx, &server, &event(&format!("evt_{org}_done"), "checkout.session.completed", 1, session.clone()))
            .await;
        let outcome = if org == "lifeok" { "succeeded" } else { "failed" };
        session["payment_status"] = json!(if org == "lifeok" { "paid" } else { "unpaid" });
        let kind = format!("checkout.session.async_payment_{outcome}");
        let reply = deliver(&ctx, &server, &event(&format!("evt_{org}_async"), &kind, 2, session)).await;
        assert_eq!(reply.status, 200, "{kind} is accepted: {reply:?}");
    }
    process_queue(&ctx).await;

    assert_eq!(ctx.stored_account("lifeok").await.tier.as_str(), "lifetime");
    assert_eq!(ctx.stored_account("lifebad").await.tier.as_str(), "free");
    for org in ["lifeok", "lifebad"] {
        let marker = ctx.app.store.stripe_event_status(&format!("evt_{org}_async")).await.unwrap();
        assert_eq!(marker.as_deref(), Some("processed"), "{org}: acknowledged, not retried");
    }
}

#[tokio::test]
async fn a_voided_invoice_stops_holding_a_payment_suspension() {
    let ctx = context().await;
    let server = ctx.serve().await;
    dunning_org(&ctx, "voided").await;
    for (invoice, base) in [("in_v", 100), ("in_w", 200)] {
        for attempt in 1..=3 {
            let id = format!("evt_{invoice}_{attempt}");
            deliver(
                &ctx,
                &server,
                &invoice_event(&id, "invoice.payment_failed", base + attempt, "voided", invoice, attempt),
            )
            .await;
        }
    }
    deliver(&ctx, &server, &invoice_event("evt_v_void", "invoice.voided", 300, "voided", "in_v", 3)).await;
    process_queue(&ctx).await;
    assert_eq!(status(&ctx, "voided").await, "suspended", "in_w is still unpaid");
    // A failure of the voided invoice redelivered late reopens nothing.
    redeliver_to_processor(&ctx, &invoice_event("evt_v_late", "invoice.payment_failed", 250, "voided", "in_v", 4))
        .await;

    deliver(&ctx, &server, &invoice_event("evt_w_paid", "invoice.paid", 400, "voided", "in_w", 4)).await;
    process_queue(&ctx).await;
    assert_eq!(status(&ctx, "voided").await, "active");
    assert_eq!(ctx.items_with_prefix("OUTBOX#reactivated-in_w").await.len(), 1);
}

#[tokio::test]
async fn a_publish_whose_answer_was_lost_is_repeated_with_the_same_envelope_id() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let spy = ctx.event_spy().await;
    dunning_org(&ctx, "lostack").await;
    for attempt in 1..=3 {
        let id = format!("evt_la{attempt}");
        deliver(
            &ctx,
            &server,
            &invoice_event(&id, "invoice.payment_failed", 100 + attempt, "lostack", "in_la", attempt),
        )
        .await;
    }
    process_queue(&ctx).await;

    let (flaky, injector) = ctx.with_put_events_injector(billing_tests::FailingPutEvents::ambiguous(2));
    let mut outbox = ctx.outbox().await;
    ctx.drain_outbox(&mut outbox, &flaky).await;

    assert_eq!(injector.injected(), 2);
    let events = spy.events().await;
    assert_eq!(events.len(), 4 + 2, "the two unacknowledged publishes were sent again: {events:?}");
    let distinct: std::collections::BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        distinct,
        ["payment-failed-in_la-1", "payment-failed-in_la-2", "payment-failed-in_la-3", "suspended-in_la-3"]
            .map(String::from)
            .into(),
        "subscribers deduplicating on the id see each change once"
    );
}

/// A subscription object as Stripe sends it: `subscribed_at` is the object's own `created`.
pub(crate) fn subscription_object(
    id: &str,
    org: &str,
    price: &str,
    status: &str,
    subscribed_at: i64,
    period_start: i64,
) -> Value {
    json!({ "id": id, "object": "subscription", "customer": format!("cus_{org}"), "status": status,
            "created": subscribed_at, "cancel_at_period_end": false, "metadata": { "organization_id": org },
            "items": { "data": [{ "price": { "id": price }, "current_period_start": period_start,
                                  "current_period_end": period_start + 2_592_000 }] } })
}

pub(crate) async fn stored_subscription(
    ctx: &TestContext,
    org: &str,
) -> billing::stripe_events::store::SubscriptionItem {
    ctx.app.store.subscription(&OrganizationId::parse(org).unwrap()).await.unwrap().expect("a subscription item")
}

pub(crate) async fn tier(ctx: &TestContext, org: &str) -> String {
    ctx.stored_account(org).await.tier.as_str().to_owned()
}

#[tokio::test]
async fn every_ordering_and_duplicate_of_a_checkouts_subscription_events_ends_in_the_same_tier() {
    let ctx = context().await;
    let server = ctx.serve().await;
    let orders: Vec<Vec<usize>> = vec![
        vec![0, 1],
        vec![1, 0],
        vec![1, 2],
        vec![2, 1],
        vec![0, 2],
        vec![2, 0],
        vec![0, 1, 2],
        vec![0, 2, 1],
        vec![1, 0, 2],
        vec![1, 2, 0],
        vec![2, 0, 1],
        vec![2, 1, 0],
    ];
    let mut expected = Vec::new();
    // Spread 0: Stripe's usual case, every event in the same second.
    for spread in [0, 1] {
        for (n, order) in orders.iter().enumerate() {
            let org = format!("perm-{spread}-{n}");
            ctx.account(&org).await;
            let t = 1_800_000_000;
            let sub = |status: &str| subscription_object(&format!("sub_{org}"), &org, "price_pro", status, t, t);
            let events = [
                event(&format!("evt_{org}_c"), "customer.subscription.created", t, sub("incomplete")),
                event(&format!("evt_{org}_u"), "customer.subscription.updated", t + spread, sub("active")),
                event(&format!("evt_{org}_d"), "customer.subscription.deleted", t + 2 * spread, sub("canceled")),
            ];
            for &i in order {
                assert_eq!(deliver(&ctx, &server, &events[i]).await.status, 200);
            }
            // Each again under a new id, as a redelivery after a crash before the marker.
            for &i in order {
                let mut again = events[i].clone();
                again["id"] = json!(format!("{}_again", events[i]["id"].as_str().unwrap()));
                assert_eq!(deliver(&ctx, &server, &again).await.status, 200);
            }
            let deleted = order.contains(&2);
            let newest = if deleted { "canceled" } else { "active" };
            expected.push((org, order.clone(), if deleted { "free" } else { "pro" }, newest));
        }
    }
    process_queue(&ctx).await;

    for (org, order, want_tier, want_status) in expected {
        let sub = stored_subscription(&ctx, &org).await;
        assert_eq!(
            (tier(&ctx, &org).await.as_str(), sub.status.as_str()),
            (want_tier, want_status),
            "{org}: order {order:?}"
        );
    }
}

#[tokio::test]
async fn an_old_replaced_subscriptions_events_never_move_a_paying_customer() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("replaced").await;
    let old = |status: &str| subscription_object("sub_old", "replaced", "price_starter", status, 1_000, 1_000);
    let new = subscription_object("sub_new", "replaced", "price_pro", "active", 2_000, 2_000);
    deliver(&ctx, &server, &event("evt_old_on", "customer.subscription.updated", 1_000, old("active"))).await;
    deliver(&ctx, &server, &event("evt_new_on", "customer.subscription.updated", 2_000, new)).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "replaced").await, "pro", "the later subscription took over");

    // The old one is updated, then canceled, after the new one took over.
    deliver(&ctx, &server, &event("evt_old_upd", "customer.subscription.updated", 2_500, old("active"))).await;
    deliver(&ctx, &server, &event("evt_old_del", "customer.subscription.deleted", 3_000, old("canceled"))).await;
    process_queue(&ctx).await;

    assert_eq!(tier(&ctx, "replaced").await, "pro", "still paying for sub_new");
    let sub = stored_subscription(&ctx, "replaced").await;
    assert_eq!((sub.stripe_subscription_id.as_deref(), sub.status.as_str()), (Some("sub_new"), "active"));
}

#[tokio::test]
async fn a_paused_or_unpaid_subscription_gives_free_service_while_its_record_keeps_the_status() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("paused").await;
    let sub = |status: &str| subscription_object("sub_paused", "paused", "price_pro", status, 1_000, 1_000);
    let steps = [("active", "pro"), ("paused", "free"), ("active", "pro"), ("unpaid", "free")];
    for (n, (status, want)) in steps.into_iter().enumerate() {
        let created = 1_000 + i64::try_from(n).unwrap() * 100;
        deliver(&ctx, &server, &event(&format!("evt_p{n}"), "customer.subscription.updated", created, sub(status)))
            .await;
        process_queue(&ctx).await;
        let stored = stored_subscription(&ctx, "paused").await;
        assert_eq!(
            (tier(&ctx, "paused").await.as_str(), stored.status.as_str(), stored.tier.as_str()),
            (want, status, "pro"),
            "after {status}"
        );
    }
}

#[tokio::test]
async fn each_applied_plan_change_is_recorded_once_in_the_history() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("history").await;
    let sub = |status: &str| subscription_object("sub_h", "history", "price_pro", status, 1_000, 1_000);
    let events = [
        event("evt_h_created", "customer.subscription.created", 1_000, sub("incomplete")),
        event("evt_h_active", "customer.subscription.updated", 1_000, sub("active")),
        event("evt_h_deleted", "customer.subscription.deleted", 5_000, sub("canceled")),
    ];
    for e in &events {
        deliver(&ctx, &server, e).await;
    }
    process_queue(&ctx).await;
    // Redelivered from the queue as if the processor died before marking them processed.
    for e in &events {
        ctx.app.store.set_stripe_event_status(e["id"].as_str().unwrap(), "queued").await.unwrap();
        redeliver_to_processor(&ctx, e).await;
    }

    let history = ctx.app.store.plan_history(&OrganizationId::parse("history").unwrap()).await.unwrap();
    let steps: Vec<_> = history.iter().map(|h| (h.from_tier.as_str(), h.to_tier.as_str(), h.source.as_str())).collect();
    assert_eq!(steps, [("free", "pro", "stripe:evt_h_active"), ("pro", "free", "stripe:evt_h_deleted")]);
    assert_eq!(history[1].changed_at.timestamp(), 5_000);
    assert!(history[1].reason.contains("canceled"), "{:?}", history[1].reason);
}

#[tokio::test]
async fn a_renewal_invoice_with_a_proration_line_first_keeps_the_quota_of_the_subscriptions_own_period() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("renew").await;
    ctx.app.store.link_customer(&OrganizationId::parse("renew").unwrap(), "cus_renew", None).await.unwrap();
    let (first, second) = (1_800_000_000, 1_802_592_000);
    let sub = |period: i64| subscription_object("sub_renew", "renew", "price_pro", "active", first, period);
    deliver(&ctx, &server, &event("evt_r_on", "customer.subscription.updated", first, sub(first))).await;
    // Stripe renews the subscription: the new period starts and the quota with it.
    deliver(&ctx, &server, &event("evt_r_renew", "customer.subscription.updated", second, sub(second))).await;
    process_queue(&ctx).await;
    ctx.update_account("renew", "SET period_used = :n", &[(":n", AttributeValue::N("4".into()))]).await;

    // The renewal invoice lists a proration for part of the old period before the new period.
    let invoice = json!({ "id": "in_renew", "object": "invoice", "customer": "cus_renew", "subscription": "sub_renew",
        "amount_paid": 9_000, "billing_reason": "subscription_cycle", "lines": { "data": [
            { "proration": true, "period": { "start": first + 1_000_000, "end": second } },
            { "proration": false, "period": { "start": second, "end": second + 2_592_000 } } ] } });
    deliver(&ctx, &server, &event("evt_r_paid", "invoice.paid", second + 60, invoice)).await;
    process_queue(&ctx).await;

    let account = ctx.stored_account("renew").await;
    assert_eq!(
        (account.usage_period.as_str(), account.period_used),
        ("2027-02-14T08:00:00Z", 4),
        "runs already made in the new period still count"
    );
}

#[tokio::test]
async fn buying_lifetime_with_an_active_subscription_ends_it_at_period_end_instead_of_billing_again() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("lifesub").await;
    ctx.app.store.link_customer(&OrganizationId::parse("lifesub").unwrap(), "cus_lifesub", None).await.unwrap();
    let sub = |status: &str| subscription_object("sub_lifesub", "lifesub", "price_pro", status, 1_000, 1_000);
    deliver(&ctx, &server, &event("evt_ls_on", "customer.subscription.updated", 1_000, sub("active"))).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "lifesub").await, "pro");

    let life = checkout("cs_lifesub", "lifesub", "lifetime", 49_900, json!({}));
    deliver(&ctx, &server, &event("evt_ls_life", "checkout.session.completed", 2_000, life.clone())).await;
    // The same purchase reported again under another event id.
    deliver(&ctx, &server, &event("evt_ls_life2", "checkout.session.async_payment_succeeded", 2_001, life)).await;
    process_queue(&ctx).await;

    let stored = stored_subscription(&ctx, "lifesub").await;
    assert_eq!(tier(&ctx, "lifesub").await, "lifetime");
    assert!(stored.cancel_at_period_end, "Stripe was told to stop renewing sub_lifesub");
    assert_eq!((stored.stripe_subscription_id.as_deref(), stored.is_lifetime), (Some("sub_lifesub"), true));

    // Stripe confirms, and at period end deletes it: later events still apply to the record.
    let mut ending = sub("active");
    ending["cancel_at_period_end"] = json!(true);
    deliver(&ctx, &server, &event("evt_ls_upd", "customer.subscription.updated", 3_000, ending)).await;
    deliver(&ctx, &server, &event("evt_ls_del", "customer.subscription.deleted", 4_000, sub("canceled"))).await;
    process_queue(&ctx).await;

    let stored = stored_subscription(&ctx, "lifesub").await;
    assert_eq!((stored.status.as_str(), stored.source_event_created), ("canceled", 4_000));
    assert_eq!(tier(&ctx, "lifesub").await, "lifetime", "lifetime is what an ended subscription falls back to");
    let history = ctx.app.store.plan_history(&OrganizationId::parse("lifesub").unwrap()).await.unwrap();
    let steps: Vec<_> = history.iter().map(|h| (h.from_tier.as_str(), h.to_tier.as_str())).collect();
    assert_eq!(steps, [("free", "pro"), ("pro", "lifetime")]);
}

#[tokio::test]
async fn a_fully_refunded_lifetime_purchase_returns_the_account_to_free_with_a_history_entry() {
    let ctx = context().await;
    let server = ctx.serve().await;
    ctx.account("liferef").await;
    let life = checkout("cs_liferef", "liferef", "lifetime", 49_900, json!({}));
    deliver(&ctx, &server, &event("evt_lr_life", "checkout.session.completed", 1_000, life)).await;
    let charge = |refunded: i64| {
        json!({ "id": "ch_lr", "object": "charge", "customer": "cus_liferef",
        "payment_intent": "pi_cs_liferef", "amount": 49_900, "amount_refunded": refunded })
    };
    deliver(&ctx, &server, &event("evt_lr_part", "charge.refunded", 2_000, charge(10_000))).await;
    process_queue(&ctx).await;
    assert_eq!(tier(&ctx, "liferef").await, "lifetime", "a partial refund keeps the plan");

    deliver(&ctx, &server, &event("evt_lr_full", "charge.refunded", 3_000, charge(49_900))).await;
    process_queue(&ctx).await;

    assert_eq!(tier(&ctx, "liferef").await, "free");
    assert!(!stored_subscription(&ctx, "liferef").await.is_lifetime);
    let history = ctx.app.store.plan_history(&OrganizationId::parse("liferef").unwrap()).await.unwrap();
    let last = history.last().expect("history entries");
    assert_eq!(
        (last.from_tier.as_str(), last.to_tier.as_str(), last.source.as_str()),
        ("lifetime", "free", "stripe:evt_lr_full")
    );
    assert_eq!(history.len(), 2, "{history:?}");
}
