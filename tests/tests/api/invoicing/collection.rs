//! Collecting invoices through Stripe: exactly one Stripe invoice however often generation
//! is interrupted, the pay route, and webhook deliveries in any order and number.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::invoicing::flow as invoicing;
use billing::invoicing::rules::{Invoice, InvoiceSource, InvoiceStatus};
use billing::payments::transport::RetryPolicy;
use billing_tests::TestContext;
use billing_tests::fake_stripe::{Failure, FakeStripe};
use billing_tests::invoicing::{our_event, owing};
use serde_json::json;

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

async fn context(stripe: &FakeStripe) -> TestContext {
    TestContext::with_env(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", &stripe.url)]).await
}

async fn stored(ctx: &TestContext, id: &str) -> Invoice {
    ctx.app.store.invoice_by_id(id).await.unwrap().unwrap()
}

#[tokio::test]
async fn stripe_failing_midway_is_retried_to_exactly_one_stripe_invoice() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    owing(&ctx, "outage").await;
    ctx.update_account("outage", "SET auto_billing_enabled = :y", &[(":y", AttributeValue::Bool(true))]).await;
    // The invoice is created but every answer to the first generation is lost (the client
    // tries each call `attempts` times); then adding its item fails for all of the second.
    let attempts = RetryPolicy::default().attempts;
    stripe.fail("/v1/invoices", Failure::LostAnswer, attempts);
    stripe.fail("/v1/invoiceitems", Failure::Down, attempts);

    let first = invoicing::generate(&ctx.app, &org("outage")).await;
    let second = invoicing::generate(&ctx.app, &org("outage")).await;
    let third = invoicing::generate(&ctx.app, &org("outage")).await.unwrap();

    assert!(first.is_err() && second.is_err(), "{first:?} {second:?}");
    let invoice = third.invoice;
    assert_eq!(stripe.invoices_created().len(), 1, "one Stripe invoice: {:?}", stripe.requests());
    let stripe_id = stripe.invoices_created()[0].clone();
    assert_eq!(invoice.stripe_invoice_id.as_deref(), Some(stripe_id.as_str()));
    assert_eq!(stripe.items(), vec![(stripe_id.clone(), 3_000)], "each line added once");
    assert_eq!((invoice.status, invoice.number.as_deref()), (InvoiceStatus::Open, Some("INV-000001")));
    assert_eq!(invoice.collection_method.as_deref(), Some("charge_automatically"));
    assert_eq!(invoice.hosted_invoice_url, Some(format!("https://invoice.stripe.test/{stripe_id}")));
    assert_eq!(ctx.items_with_prefix("INVOICE#").await.len(), 1);
    let keys: Vec<Option<String>> =
        stripe.requests().into_iter().filter(|(path, _)| path == "/v1/invoices").map(|(_, key)| key).collect();
    // Every attempt of the first generation, then the second generation's replay.
    let sent = attempts as usize + 1;
    assert_eq!(keys, vec![Some(format!("{}-invoice", invoice.id)); sent], "every retry repeated the same key");
    assert_eq!(ctx.outbox_events("InvoiceFinalized").await, 1);
    assert_eq!(ctx.outbox_events("InvoiceGenerated").await, 1);
}

#[tokio::test]
async fn a_lost_answer_is_retried_within_the_call_with_the_same_key() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    owing(&ctx, "blip").await;
    ctx.update_account("blip", "SET auto_billing_enabled = :y", &[(":y", AttributeValue::Bool(true))]).await;
    stripe.fail("/v1/invoices", Failure::LostAnswer, 1);
    stripe.fail("/v1/invoiceitems", Failure::Down, 1);

    let invoice = invoicing::generate(&ctx.app, &org("blip")).await.expect("retried within the call").invoice;

    assert_eq!(stripe.invoices_created().len(), 1, "one Stripe invoice: {:?}", stripe.requests());
    assert_eq!(stripe.items(), vec![(stripe.invoices_created()[0].clone(), 3_000)], "the line added once");
    assert_eq!(invoice.status, InvoiceStatus::Open);
    let keys = |path: &str| -> Vec<Option<String>> {
        stripe.requests().into_iter().filter(|(p, _)| p == path).map(|(_, key)| key).collect()
    };
    assert_eq!(keys("/v1/invoices"), vec![Some(format!("{}-invoice", invoice.id)); 2]);
    assert_eq!(keys("/v1/invoiceitems"), vec![Some(format!("{}-item-0", invoice.id)); 2]);
}

#[tokio::test]
async fn paying_charges_the_card_answers_402_with_the_hosted_page_when_declined_and_409_once_paid() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    let server = ctx.serve().await;
    owing(&ctx, "payer").await;
    let invoice = invoicing::generate(&ctx.app, &org("payer")).await.unwrap().invoice;
    assert_eq!(invoice.collection_method.as_deref(), Some("send_invoice"), "auto billing is off");
    let token = server.tokens.owner("payer");
    let path = format!("/api/billing/invoices/{}/pay", invoice.id);

    stripe.decline_payments(true);
    let declined = server.request("POST", &path, Some(&token), None).await;
    assert_eq!((declined.status, declined.json["code"].as_str()), (402, Some("payment_declined")), "{declined:?}");
    assert_eq!(declined.json["hosted_invoice_url"], invoice.hosted_invoice_url.clone().unwrap().as_str());
    assert_eq!(stored(&ctx, &invoice.id).await.status, InvoiceStatus::Open);

    stripe.decline_payments(false);
    let paid = server.request("POST", &path, Some(&token), None).await;
    assert_eq!((paid.status, paid.json["status"].as_str()), (200, Some("paid")), "{paid:?}");
    assert_eq!((paid.json["amount_paid"].as_f64(), paid.json["amount_due"].as_f64()), (Some(30.0), Some(0.0)));
    assert!(paid.json["paid_at"].is_string());

    let again = server.request("POST", &path, Some(&token), None).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("invoice_not_payable")));
    // Stripe's own paid event arrives afterwards: nothing changes twice.
    let event = our_event("evt_pay", "invoice.paid", &ctx, "payer", &invoice, 1);
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();
    assert_eq!(ctx.outbox_events("InvoicePaid").await, 1);
    assert_eq!(stored(&ctx, &invoice.id).await.amount_paid_cents, 3_000);
}

/// An invoice's name, the events delivered for it (type, attempt count) and the end state.
type Ordering = (&'static str, &'static [(&'static str, i64)], InvoiceStatus);

#[tokio::test]
async fn paid_failed_and_voided_webhooks_duplicated_and_reordered_end_in_the_same_state() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    // Each ordering on an invoice of its own; every event also arrives again under a new id.
    let orderings: [Ordering; 6] = [
        (
            "p1",
            &[("invoice.paid", 1), ("invoice.payment_failed", 1), ("invoice.payment_failed", 2), ("invoice.paid", 1)],
            InvoiceStatus::Paid,
        ),
        (
            "p2",
            &[("invoice.payment_failed", 1), ("invoice.paid", 1), ("invoice.payment_failed", 2)],
            InvoiceStatus::Paid,
        ),
        ("p3", &[("invoice.marked_uncollectible", 0), ("invoice.paid", 1)], InvoiceStatus::Paid),
        ("p4", &[("invoice.paid", 1), ("invoice.marked_uncollectible", 0), ("invoice.voided", 0)], InvoiceStatus::Paid),
        ("v1", &[("invoice.payment_failed", 1), ("invoice.voided", 0), ("invoice.voided", 0)], InvoiceStatus::Void),
        (
            "v2",
            &[("invoice.voided", 0), ("invoice.payment_failed", 1), ("invoice.marked_uncollectible", 0)],
            InvoiceStatus::Void,
        ),
    ];
    for (name, events, expected) in orderings {
        owing(&ctx, name).await;
        let invoice = invoicing::generate(&ctx.app, &org(name)).await.unwrap().invoice;
        for (i, (kind, attempts)) in events.iter().enumerate() {
            let event = our_event(&format!("evt_{name}_{i}"), kind, &ctx, name, &invoice, *attempts);
            let mut again = event.clone();
            again["id"] = json!(format!("evt_{name}_{i}_again"));
            for delivery in [&event, &event, &again] {
                billing::stripe_events::flow::process(&ctx.app, &delivery.to_string()).await.unwrap();
            }
        }
        let after = stored(&ctx, &invoice.id).await;
        assert_eq!(after.status, expected, "{name}");
        if expected == InvoiceStatus::Paid {
            assert_eq!((after.amount_paid_cents, after.amount_due_cents), (3_000, 0), "{name}");
        }
        assert_eq!(ctx.stored_account(name).await.status.as_str(), "active", "{name}: two failures do not suspend");
    }
    assert_eq!(ctx.outbox_events("InvoicePaid").await, 4, "one per paid invoice");
}

#[tokio::test]
async fn stripes_own_subscription_invoices_join_the_list_and_paid_is_final() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    let server = ctx.serve().await;
    ctx.account("subs").await;
    ctx.app.store.link_customer(&org("subs"), "cus_subs", None).await.unwrap();
    let sub_invoice = |id: &str, kind: &str, status: &str| {
        json!({ "id": id, "object": "event", "type": kind, "created": ctx.app.now().timestamp(), "livemode": false,
                "data": { "object": {
                    "id": "in_sub1", "object": "invoice", "customer": "cus_subs", "number": "ABC-0001", "status": status,
                    "created": ctx.app.now().timestamp() - 60, "subtotal": 2_900, "total": 2_900, "amount_due": 2_900,
                    "amount_paid": if status == "paid" { 2_900 } else { 0 }, "billing_reason": "subscription_cycle",
                    "lines": { "data": [{ "description": "Starter plan", "amount": 2_900, "quantity": 1 }] } } } })
    };
    for event in [
        sub_invoice("evt_s2", "invoice.paid", "paid"),
        sub_invoice("evt_s1", "invoice.finalized", "open"),
        sub_invoice("evt_s1b", "invoice.finalized", "open"),
    ] {
        billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();
    }

    let recorded = stored(&ctx, "in_sub1").await;
    assert_eq!((recorded.status, recorded.source), (InvoiceStatus::Paid, InvoiceSource::StripeSubscription));
    assert_eq!((recorded.total_cents, recorded.amount_paid_cents, recorded.amount_due_cents), (2_900, 2_900, 0));
    let listed = server.get("/api/billing/account/subs/invoices", Some(&server.tokens.member("subs"))).await;
    let list = listed.json.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0]["invoice_number"].as_str(), list[0]["status"].as_str()), (Some("ABC-0001"), Some("paid")));
    assert_eq!(list[0]["line_items"][0]["amount"].as_f64(), Some(29.0));
}

#[tokio::test]
async fn a_failed_usage_invoice_leaves_the_subscription_as_it_is() {
    let stripe = FakeStripe::start().await;
    let ctx = TestContext::with_env(&[
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_API_BASE", &stripe.url),
        ("STRIPE_PRICE_STARTER", "price_starter"),
    ])
    .await;
    owing(&ctx, "subbed").await;
    let now = ctx.app.now().timestamp();
    let subscribed = json!({ "id": "evt_sub", "object": "event", "type": "customer.subscription.created", "created": now,
        "data": { "object": { "id": "sub_subbed", "object": "subscription", "customer": "cus_subbed", "status": "active",
            "created": now, "cancel_at_period_end": false, "metadata": { "organization_id": "subbed" },
            "items": { "data": [{ "price": { "id": "price_starter" }, "current_period_start": now, "current_period_end": now + 2_592_000 }] } } } });
    billing::stripe_events::flow::process(&ctx.app, &subscribed.to_string()).await.unwrap();
    let invoice = invoicing::generate(&ctx.app, &org("subbed")).await.unwrap().invoice;

    let failed = our_event("evt_fail", "invoice.payment_failed", &ctx, "subbed", &invoice, 1);
    billing::stripe_events::flow::process(&ctx.app, &failed.to_string()).await.unwrap();

    let sub = ctx.app.store.subscription(&org("subbed")).await.unwrap().unwrap();
    assert_eq!(sub.status, "active");
    assert_eq!(stored(&ctx, &invoice.id).await.status, InvoiceStatus::Open);
    assert_eq!(ctx.outbox_events("PaymentFailed").await, 1, "dunning still hears of it");
}
