//! The events Stripe sends when a Checkout session completes, built from what billing asked
//! for (a [`RecordedSession`]), with the fields billing's processor reads
//! (`flows::stripe_events`, `flows::subscriptions::apply`, `flows::invoicing`):
//!
//! - payment mode (credits, packs, lifetime): `checkout.session.completed` paid, with
//!   `amount_total`, `payment_intent`, `metadata` and `customer`; a delayed method completes
//!   it `unpaid` and then sends `checkout.session.async_payment_succeeded` or `_failed`;
//! - subscription mode: the session (linking the customer), `customer.subscription.created`
//!   (`active`, or `trialing` when the session asked for trial days) on the tier's price, and
//!   the first invoice's `invoice.paid`;
//! - setup mode (a card saved for later): the session with its `setup_intent`, and
//!   `payment_method.attached` for the new card.
//!
//! Every id is derived from the session and the outcome, so building twice gives the same
//! events, which the webhook then takes as duplicates.

use chrono::{DateTime, Months, Utc};
use serde_json::{Value, json};

use crate::stripe_proxy::{Made, Outcome, RecordedSession};

/// What the stand-in knows besides the session: the time and what the item costs.
#[derive(Debug, Clone)]
pub struct Context {
    pub now: DateTime<Utc>,
    /// What the customer pays now, in cents (0 during a trial).
    pub amount_total: i64,
    /// The item's name on an invoice line ("Pro", "Prepaid credits ($25)").
    pub item_name: String,
    /// Price per period in cents, for a subscription's price object.
    pub unit_amount: i64,
}

/// The events for `session` completed as `outcome`, and the objects they created.
pub fn build(session: &RecordedSession, outcome: Outcome, ctx: &Context) -> Result<Made, String> {
    let customer = session.customer.clone().ok_or("the session has no customer")?;
    match (session.mode.as_str(), outcome) {
        ("payment", _) => Ok(payment(session, outcome, ctx)),
        ("subscription", Outcome::Pay) => Ok(subscription(session, &customer, ctx)),
        ("setup", Outcome::Pay) => Ok(setup(session, &customer, ctx)),
        (mode, outcome) => Err(format!("a {mode} session cannot be completed as {}", outcome.as_str())),
    }
}

/// A Stripe event around `object`, with an id fixed by the session, outcome and step.
fn event(session: &RecordedSession, outcome: Outcome, step: &str, kind: &str, now: i64, object: Value) -> Value {
    json!({
        "id": format!("evt_local_{}_{}_{step}", session.suffix(), outcome.as_str().replace('-', "_")),
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
        "data": { "object": object },
    })
}

/// The session object as Stripe sends it in its events.
fn session_object(session: &RecordedSession, payment_status: &str, ctx: &Context) -> Value {
    json!({
        "id": session.id,
        "object": "checkout.session",
        "mode": session.mode,
        "status": "complete",
        "payment_status": payment_status,
        "amount_subtotal": ctx.amount_total,
        "amount_total": ctx.amount_total,
        "currency": session.currency,
        "customer": session.customer,
        "customer_details": { "email": null },
        "metadata": session.metadata,
        "payment_intent": null,
        "subscription": null,
        "setup_intent": null,
        "success_url": session.success_url,
        "cancel_url": session.cancel_url,
        "created": session.created,
        "livemode": false,
        "url": null,
    })
}

fn payment(session: &RecordedSession, outcome: Outcome, ctx: &Context) -> Made {
    let now = ctx.now.timestamp();
    let mut paid = session_object(session, "paid", ctx);
    paid["payment_intent"] = json!(format!("pi_local_{}", session.suffix()));
    let events = match outcome {
        Outcome::Pay => vec![event(session, outcome, "completed", "checkout.session.completed", now, paid)],
        Outcome::PayLater | Outcome::Fail => {
            let mut unpaid = paid.clone();
            unpaid["payment_status"] = json!("unpaid");
            let completed = event(session, outcome, "completed", "checkout.session.completed", now, unpaid.clone());
            let settled = if outcome == Outcome::PayLater {
                event(session, outcome, "settled", "checkout.session.async_payment_succeeded", now, paid)
            } else {
                event(session, outcome, "settled", "checkout.session.async_payment_failed", now, unpaid)
            };
            vec![completed, settled]
        }
    };
    Made { events, ..Made::default() }
}

fn subscription(session: &RecordedSession, customer: &str, ctx: &Context) -> Made {
    let now = ctx.now.timestamp();
    let suffix = session.suffix();
    let sub_id = format!("sub_local_{suffix}");
    let invoice_id = format!("in_local_{suffix}");
    let trial_end = session.trial_days.map(|days| (ctx.now + chrono::Duration::days(i64::from(days))).timestamp());
    let period_end =
        trial_end.unwrap_or_else(|| (ctx.now.checked_add_months(Months::new(1)).unwrap_or(ctx.now)).timestamp());
    // A configured price, or a launch offer's inline price (its tier is in the metadata).
    let price_id = session.price.clone().unwrap_or_else(|| format!("price_local_inline_{suffix}"));
    let price = json!({
        "id": price_id,
        "object": "price",
        "currency": session.currency,
        "unit_amount": ctx.unit_amount,
        "recurring": { "interval": session.interval.as_deref().unwrap_or("month"), "interval_count": 1 },
        "product": session.product.clone().unwrap_or_else(|| format!("prod_local_{suffix}")),
        "type": "recurring",
    });
    let status = if trial_end.is_some() { "trialing" } else { "active" };
    let sub = json!({
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "created": now,
        "start_date": now,
        "billing_cycle_anchor": period_end,
        "current_period_start": now,
        "current_period_end": period_end,
        "cancel_at_period_end": false,
        "cancel_at": null,
        "canceled_at": null,
        "ended_at": null,
        "trial_start": trial_end.map(|_| now),
        "trial_end": trial_end,
        "metadata": session.subscription_metadata,
        "latest_invoice": invoice_id,
        "schedule": null,
        "livemode": false,
        "items": { "object": "list", "has_more": false, "data": [{
            "id": format!("si_local_{suffix}"),
            "object": "subscription_item",
            "price": price,
            "quantity": 1,
            "current_period_start": now,
            "current_period_end": period_end,
        }] },
    });
    let invoice = json!({
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "subscription": sub_id,
        "status": "paid",
        "billing_reason": "subscription_create",
        "amount_due": ctx.amount_total,
        "amount_paid": ctx.amount_total,
        "amount_remaining": 0,
        "currency": session.currency,
        "created": now,
        "number": format!("LOCAL-{}", suffix.to_uppercase()),
        "period_start": now,
        "period_end": now,
        "status_transitions": { "finalized_at": now, "paid_at": now },
        "lines": { "object": "list", "has_more": false, "data": [{
            "amount": ctx.amount_total,
            "quantity": 1,
            "description": format!("1 × {} ({})", ctx.item_name, if trial_end.is_some() { "trial" } else { "first month" }),
            "period": { "start": now, "end": period_end },
        }] },
        "metadata": {},
        "livemode": false,
    });
    let payment_status = if trial_end.is_some() { "no_payment_required" } else { "paid" };
    let mut completed = session_object(session, payment_status, ctx);
    completed["subscription"] = json!(sub_id);
    completed["invoice"] = json!(invoice_id);
    let outcome = Outcome::Pay;
    let events = vec![
        event(session, outcome, "completed", "checkout.session.completed", now, completed),
        event(session, outcome, "subscription", "customer.subscription.created", now, sub.clone()),
        event(session, outcome, "invoice", "invoice.paid", now, invoice),
    ];
    Made { events, subscription: Some(sub), ..Made::default() }
}

fn setup(session: &RecordedSession, customer: &str, ctx: &Context) -> Made {
    let now = ctx.now.timestamp();
    let suffix = session.suffix();
    let method_id = format!("pm_local_{suffix}");
    let intent_id = format!("seti_local_{suffix}");
    let method = json!({
        "id": method_id,
        "object": "payment_method",
        "type": "card",
        "customer": customer,
        "created": now,
        "livemode": false,
        "billing_details": { "address": null, "email": null, "name": null, "phone": null },
        "card": {
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": ctx.now.format("%Y").to_string().parse::<i32>().unwrap_or(2030) + 3,
            "funding": "credit",
            "country": "US",
        },
        "metadata": {},
    });
    let intent = json!({
        "id": intent_id,
        "object": "setup_intent",
        "customer": customer,
        "payment_method": method_id,
        "status": "succeeded",
        "usage": "off_session",
        "created": now,
        "metadata": session.metadata,
        "livemode": false,
    });
    let mut completed = session_object(session, "no_payment_required", ctx);
    completed["setup_intent"] = json!(intent_id);
    completed["amount_subtotal"] = Value::Null;
    completed["amount_total"] = Value::Null;
    let outcome = Outcome::Pay;
    let events = vec![
        event(session, outcome, "completed", "checkout.session.completed", now, completed),
        event(session, outcome, "attached", "payment_method.attached", now, method.clone()),
    ];
    Made { events, setup_intent: Some(intent), payment_method: Some(method), ..Made::default() }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;

    fn session(mode: &str) -> RecordedSession {
        RecordedSession {
            id: "cs_test_abc".into(),
            mode: mode.into(),
            customer: Some("cus_1".into()),
            metadata: BTreeMap::from([("organization_id".into(), "demo".into()), ("purpose".into(), "credits".into())]),
            subscription_metadata: BTreeMap::from([
                ("organization_id".into(), "demo".into()),
                ("tier".into(), "pro".into()),
            ]),
            price: (mode == "subscription").then(|| "price_local_pro".into()),
            unit_amount: (mode == "payment").then_some(2500),
            product_name: None,
            product: None,
            interval: None,
            currency: "usd".into(),
            trial_days: None,
            promotion_code: None,
            success_url: "http://x/s?session_id={CHECKOUT_SESSION_ID}".into(),
            cancel_url: "http://x/c".into(),
            created: 1,
        }
    }

    fn ctx(amount: i64) -> Context {
        Context {
            now: Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap(),
            amount_total: amount,
            item_name: "Pro".into(),
            unit_amount: 7900,
        }
    }

    fn kinds(made: &Made) -> Vec<&str> {
        made.events.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn a_paid_payment_session_completes_paid_with_amount_metadata_and_customer() {
        let made = build(&session("payment"), Outcome::Pay, &ctx(2500)).unwrap();
        assert_eq!(kinds(&made), ["checkout.session.completed"]);
        let object = &made.events[0]["data"]["object"];
        assert_eq!(object["payment_status"], "paid");
        assert_eq!(object["amount_total"], 2500);
        assert_eq!(object["metadata"]["purpose"], "credits");
        assert_eq!(object["customer"], "cus_1");
        assert_eq!(object["payment_intent"], "pi_local_abc");
    }

    #[test]
    fn delayed_methods_complete_unpaid_then_succeed_or_fail() {
        let later = build(&session("payment"), Outcome::PayLater, &ctx(2500)).unwrap();
        assert_eq!(kinds(&later), ["checkout.session.completed", "checkout.session.async_payment_succeeded"]);
        assert_eq!(later.events[0]["data"]["object"]["payment_status"], "unpaid");
        assert_eq!(later.events[1]["data"]["object"]["payment_status"], "paid");
        let failed = build(&session("payment"), Outcome::Fail, &ctx(2500)).unwrap();
        assert_eq!(kinds(&failed), ["checkout.session.completed", "checkout.session.async_payment_failed"]);
        let ids = |made: &Made| made.events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert!(ids(&later).iter().all(|id| !ids(&failed).contains(id)), "each outcome has its own event ids");
        assert_eq!(ids(&later), ids(&build(&session("payment"), Outcome::PayLater, &ctx(2500)).unwrap()));
    }

    #[test]
    fn a_subscription_session_makes_an_active_subscription_on_the_tier_price_and_its_paid_invoice() {
        let made = build(&session("subscription"), Outcome::Pay, &ctx(7900)).unwrap();
        assert_eq!(kinds(&made), ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]);
        let sub = made.subscription.as_ref().unwrap();
        assert_eq!(sub["status"], "active");
        assert_eq!(sub["items"]["data"][0]["price"]["id"], "price_local_pro");
        assert_eq!(sub["metadata"]["organization_id"], "demo");
        let start = Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap();
        assert_eq!(sub["current_period_start"], start.timestamp());
        assert_eq!(sub["current_period_end"], Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap().timestamp());
        assert_eq!(made.events[0]["data"]["object"]["subscription"], "sub_local_abc");
        assert_eq!(made.events[2]["data"]["object"]["amount_paid"], 7900);
        assert!(build(&session("subscription"), Outcome::PayLater, &ctx(7900)).is_err());
    }

    #[test]
    fn a_trial_subscription_is_trialing_until_the_trial_ends_and_costs_nothing_now() {
        let mut trial = session("subscription");
        trial.trial_days = Some(14);
        let made = build(&trial, Outcome::Pay, &ctx(0)).unwrap();
        let sub = made.subscription.unwrap();
        assert_eq!(sub["status"], "trialing");
        assert_eq!(sub["trial_end"], sub["current_period_end"]);
        assert_eq!(made.events[0]["data"]["object"]["payment_status"], "no_payment_required");
    }

    #[test]
    fn a_setup_session_attaches_a_card_to_the_customer() {
        let made = build(&session("setup"), Outcome::Pay, &ctx(0)).unwrap();
        assert_eq!(kinds(&made), ["checkout.session.completed", "payment_method.attached"]);
        assert_eq!(made.events[0]["data"]["object"]["setup_intent"], "seti_local_abc");
        assert_eq!(made.events[1]["data"]["object"]["customer"], "cus_1");
        assert_eq!(made.setup_intent.unwrap()["payment_method"], "pm_local_abc");
        assert_eq!(made.payment_method.unwrap()["card"]["last4"], "4242");
    }
}
