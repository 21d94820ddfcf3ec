//! The webhook's front door: signature checks, deduplication and the FIFO hand-off, with
//! payloads signed here the way Stripe signs them.

use billing::payments::webhook::sign;
use billing_tests::TestContext;
use billing_tests::stripe_events::{SECRET, checkout, deliver, event, now_ts, post, process_queue, webhook_context};
use serde_json::json;

#[tokio::test]
async fn unsigned_forged_and_stale_deliveries_are_refused_and_leave_nothing_behind() {
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
    let server = ctx.serve().await;
    let payload = event("evt_roll", "customer.created", 1, json!({})).to_string();
    let v1 = |secret: &str| sign(&payload, secret, now_ts(&ctx)).split(",v1=").nth(1).unwrap().to_owned();
    let header = format!("t={},v1={},v1={}", now_ts(&ctx), v1("whsec_retiring"), v1(SECRET));

    let reply = post(&server, &payload, Some(&header)).await;

    assert_eq!(reply.status, 200, "{reply:?}");
}

#[tokio::test]
async fn a_duplicate_delivery_is_acknowledged_and_applied_once() {
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
