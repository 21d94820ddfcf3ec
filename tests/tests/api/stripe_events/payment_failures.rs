//! Payment failures reported by Stripe: repeated failures suspend the account, a payment lifts
//! that suspension once nothing else holds it, whatever the order of the events.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing_tests::accounts::status;
use billing_tests::stripe_events::{
    deliver, dunning_org, event, invoice_event, process_queue, redeliver_to_processor, webhook_context,
};
use serde_json::json;

#[tokio::test]
async fn repeated_payment_failures_suspend_the_account_and_a_payment_reactivates_it() {
    let ctx = webhook_context().await;
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
async fn a_payment_failure_redelivered_after_its_invoice_was_paid_never_suspends_the_account() {
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
async fn a_voided_invoice_stops_holding_a_payment_suspension() {
    let ctx = webhook_context().await;
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
