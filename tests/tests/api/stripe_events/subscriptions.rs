//! Subscription events in any order and number: the newest state wins, a replaced
//! subscription never moves the account, and each plan change is recorded once.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing_tests::accounts::tier;
use billing_tests::stripe_events::{
    deliver, event, now_ts, process_queue, redeliver_to_processor, subscription, subscription_object, webhook_context,
};
use billing_tests::subscriptions::stored_subscription;
use serde_json::json;

#[tokio::test]
async fn an_older_subscription_event_never_overwrites_newer_state() {
    let ctx = webhook_context().await;
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
async fn every_ordering_and_duplicate_of_a_checkouts_subscription_events_ends_in_the_same_tier() {
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
