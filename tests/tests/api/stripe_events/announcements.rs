//! The changes Stripe's events make are announced through the outbox exactly once, whatever
//! PutEvents answers.

use billing_tests::accounts::status;
use billing_tests::stripe_events::{
    deliver, dunning_org, invoice_event, process_queue, redeliver_to_processor, webhook_context,
};

/// Distinct envelope ids per event type seen by the spy (subscribers dedupe on the id).
fn distinct_ids(events: &[billing::events::Envelope], name: &str) -> std::collections::BTreeSet<String> {
    events.iter().filter(|e| e.event.name() == name).map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn every_committed_stripe_status_change_is_announced_exactly_once_despite_failing_put_events() {
    let ctx = webhook_context().await;
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
async fn a_publish_whose_answer_was_lost_is_repeated_with_the_same_envelope_id() {
    let ctx = webhook_context().await;
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
