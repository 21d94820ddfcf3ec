//! Purchases reported by Stripe's events: packs, lifetime and credits applied once (also when
//! paid later), refunds, and lifetime bought over an active subscription.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing_tests::accounts::tier;
use billing_tests::stripe_events::{
    checkout, deliver, event, process_queue, subscription, subscription_object, webhook_context,
};
use billing_tests::subscriptions::stored_subscription;
use serde_json::json;

#[tokio::test]
async fn workflow_packs_and_lifetime_purchases_apply_the_catalog() {
    let ctx = webhook_context().await;
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
async fn a_refund_after_partial_consumption_leaves_an_honest_negative_balance() {
    let ctx = webhook_context().await;
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
async fn a_delayed_checkout_payment_grants_credits_once_when_it_succeeds() {
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
async fn buying_lifetime_with_an_active_subscription_ends_it_at_period_end_instead_of_billing_again() {
    let ctx = webhook_context().await;
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
    let ctx = webhook_context().await;
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
