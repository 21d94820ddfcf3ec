//! Stripe webhook helpers: a context for the pipeline, events signed the way Stripe signs
//! them, their delivery and processing, and the Stripe objects they carry.

use billing::ids::OrganizationId;
use billing::payments::webhook::sign;
use serde_json::{Value, json};

use crate::{Reply, TestContext, TestServer};

/// The webhook signing secret of [`webhook_context`].
pub const SECRET: &str = "whsec_test_pipeline";

/// A context with messaging, the webhook secret, stripe-mock and the starter and pro prices.
pub async fn webhook_context() -> TestContext {
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

/// The context's clock as a Unix timestamp.
pub fn now_ts(ctx: &TestContext) -> i64 {
    ctx.app.now().timestamp()
}

/// Posts `payload` to the webhook route with `signature` as its `Stripe-Signature` header.
pub async fn post(server: &TestServer, payload: &str, signature: Option<&str>) -> Reply {
    let mut request = server.http.post(format!("{}/api/billing/webhook", server.url)).body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap_or(Value::Null);
    Reply { status, json, headers }
}

/// Posts `event` to the webhook route signed with [`SECRET`] now.
pub async fn deliver(ctx: &TestContext, server: &TestServer, event: &Value) -> Reply {
    let payload = event.to_string();
    post(server, &payload, Some(&sign(&payload, SECRET, now_ts(ctx)))).await
}

/// Runs the FIFO queue through the processor until it is empty, like the event source mapping.
pub async fn process_queue(ctx: &TestContext) -> usize {
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

/// Applies an event straight through the processor, as a redelivery from the queue would
/// (the webhook's dedupe marker does not stop it).
pub async fn redeliver_to_processor(ctx: &TestContext, event: &Value) {
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();
}

/// A Stripe event of type `kind` created at `created`, carrying `object`.
pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({ "id": id, "object": "event", "type": kind, "created": created, "livemode": false, "pending_webhooks": 1,
            "api_version": "2025-03-31.basil", "data": { "object": object } })
}

/// A paid Checkout session of `org` for `purpose`, with `extra` metadata.
pub fn checkout(id: &str, org: &str, purpose: &str, amount: i64, extra: Value) -> Value {
    let mut metadata = json!({ "organization_id": org, "purpose": purpose });
    if let (Some(m), Value::Object(more)) = (metadata.as_object_mut(), extra) {
        m.extend(more);
    }
    json!({ "id": id, "object": "checkout.session", "payment_status": "paid", "amount_total": amount,
            "customer": format!("cus_{org}"), "payment_intent": format!("pi_{id}"), "metadata": metadata })
}

/// `org`'s subscription `sub_<org>` to `price`, in `status`, whose 30-day period starts at `period_start`.
pub fn subscription(org: &str, price: &str, status: &str, period_start: i64) -> Value {
    json!({ "id": format!("sub_{org}"), "object": "subscription", "customer": format!("cus_{org}"), "status": status,
            "cancel_at_period_end": false, "metadata": { "organization_id": org },
            "items": { "data": [{ "price": { "id": price }, "current_period_start": period_start, "current_period_end": period_start + 2_592_000 }] } })
}

/// A subscription object as Stripe sends it: `subscribed_at` is the object's own `created`.
pub fn subscription_object(
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

/// An org whose Stripe customer (`cus_<org>`) is linked, ready for its invoice events.
pub async fn dunning_org(ctx: &TestContext, org: &str) {
    ctx.account(org).await;
    ctx.app.store.link_customer(&OrganizationId::parse(org).unwrap(), &format!("cus_{org}"), None).await.unwrap();
}

/// An event about `org`'s $79 subscription invoice `invoice` after `attempts` payment attempts.
pub fn invoice_event(id: &str, kind: &str, created: i64, org: &str, invoice: &str, attempts: i64) -> Value {
    event(
        id,
        kind,
        created,
        json!({ "id": invoice, "object": "invoice", "customer": format!("cus_{org}"), "attempt_count": attempts,
                "amount_due": 7_900, "amount_paid": if kind == "invoice.paid" { 7_900 } else { 0 },
                "billing_reason": "subscription_cycle" }),
    )
}
