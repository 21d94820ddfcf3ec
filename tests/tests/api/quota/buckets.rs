//! Which bucket pays for a run: overage above the hold only when approved, nothing for a
//! suspended account or an unlimited tier, and never a dearer bucket than the account now has.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::quota::rules::{Bucket, Refusal, RunKind};
use billing::quota::store::QuotaError;
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::values::{n, org, s};

#[tokio::test]
async fn a_commit_above_the_hold_needs_approval_and_bills_the_excess_as_overage() {
    let ctx = TestContext::new().await;
    ctx.update_account(
        "over",
        "SET free_remaining = :zero, credit_balance_cents = :c",
        &[(":zero", n(0)), (":c", n(1_000))],
    )
    .await;
    reserve(&ctx, "over", "big", RunKind::Standard).await.unwrap();
    let store = &ctx.app.store;
    let now = ctx.app.now();

    let refused = store.commit(&org("over"), "big", Some(1_250), false, None, now).await;
    assert!(matches!(refused, Err(QuotaError::ExceedsHold(_))), "{refused:?}");
    assert_eq!(ctx.stored_account("over").await.holds.len(), 1, "a refused commit changes nothing");

    let committed = store.commit(&org("over"), "big", Some(1_250), true, None, now).await.unwrap();
    assert_eq!(
        (committed.usage.charged_cents, committed.usage.excess_cents, committed.usage.billed),
        (1_000, 250, false)
    );
    let account = ctx.stored_account("over").await;
    assert_eq!((account.credit_balance_cents, account.credit_held_cents), (0, 0));
}

#[tokio::test]
async fn a_suspended_account_is_refused_and_nothing_is_taken() {
    let ctx = TestContext::new().await;
    ctx.update_account("frozen", "SET #status = :s", &[(":s", s("suspended"))]).await;
    let result = reserve(&ctx, "frozen", "r", RunKind::Standard).await;
    assert!(matches!(result, Err(QuotaError::Refused(Refusal::Suspended))), "{result:?}");
    assert_eq!(ctx.stored_account("frozen").await.free_remaining, 5);
}

#[tokio::test]
async fn unlimited_tiers_take_no_quota_and_overage_needs_a_payment_method() {
    let ctx = TestContext::new().await;
    ctx.update_account("byo", "SET tier = :tier", &[(":tier", s("byo"))]).await;
    let unlimited = reserve(&ctx, "byo", "r", RunKind::Complex).await.unwrap();
    assert_eq!(unlimited.hold.bucket, Bucket::Unlimited);
    assert_eq!(ctx.stored_account("byo").await.free_remaining, 5);

    ctx.update_account(
        "payg",
        "SET tier = :tier, free_remaining = :z, period_used = :full",
        &[(":tier", s("starter")), (":z", n(0)), (":full", n(20))],
    )
    .await;
    assert!(matches!(
        reserve(&ctx, "payg", "r1", RunKind::Standard).await,
        Err(QuotaError::Refused(Refusal::Exhausted))
    ));
    ctx.update_account("payg", "SET has_payment_method = :t", &[(":t", AttributeValue::Bool(true))]).await;
    let overage = reserve(&ctx, "payg", "r2", RunKind::Complex).await.unwrap();
    assert_eq!((overage.hold.bucket, overage.hold.amount_cents), (Bucket::Overage, 1_500));
    let committed = ctx.app.store.commit(&org("payg"), "r2", Some(1_500), false, None, ctx.app.now()).await.unwrap();
    assert!(!committed.usage.billed, "overage waits for an invoice");
}

/// The store remembers the last account state it saw; another process (the Stripe processor
/// granting credits, a renewal restarting the period) changes the account behind its back.
/// A grant decided on the remembered state must not skip the cheaper buckets now there.
#[tokio::test]
async fn a_grant_decided_on_a_remembered_account_never_skips_credits_or_quota_added_meanwhile() {
    let ctx = TestContext::new().await;
    ctx.account("stale").await;
    let month = ctx.app.now().format("%Y-%m").to_string();
    ctx.update_account(
        "stale",
        "SET tier = :t, has_payment_method = :y, free_period = :m, free_remaining = :z, usage_period = :p, period_used = :used",
        &[
            (":t", s("starter")),
            (":y", AttributeValue::Bool(true)),
            (":m", s(&month)),
            (":z", n(0)),
            (":p", s("2026-11-01T00:00:00Z")),
            (":used", n(20)),
        ],
    )
    .await;
    let first = reserve(&ctx, "stale", "before", RunKind::Standard).await.unwrap();
    assert_eq!(first.hold.bucket, Bucket::Overage, "nothing cheaper left");
    // Starter runs two at a time: each run ends before the next.
    let ctx = &ctx;
    let release = |run: &'static str| async move {
        ctx.app.store.release(&org("stale"), run, ctx.app.now()).await.unwrap();
    };
    release("before").await;

    // Credits bought meanwhile: the next run is paid from them, not invoiced as overage.
    ctx.update_account("stale", "SET credit_balance_cents = :c", &[(":c", n(5_000))]).await;
    let second = reserve(ctx, "stale", "after-credits", RunKind::Standard).await.unwrap();
    assert_eq!(second.hold.bucket, Bucket::Credits);
    release("after-credits").await;

    ctx.update_account("stale", "SET credit_balance_cents = :zero", &[(":zero", n(0))]).await;
    let third = reserve(ctx, "stale", "spent", RunKind::Standard).await.unwrap();
    assert_eq!(third.hold.bucket, Bucket::Overage, "credits gone again");
    release("spent").await;

    // A renewal restarted the subscription's period meanwhile: its quota comes before overage.
    ctx.update_account(
        "stale",
        "SET usage_period = :p, period_used = :zero",
        &[(":zero", n(0)), (":p", s("2026-11-20T00:00:00Z"))],
    )
    .await;
    let fourth = reserve(ctx, "stale", "after-renewal", RunKind::Standard).await.unwrap();
    assert_eq!(fourth.hold.bucket, Bucket::Subscription);
}
