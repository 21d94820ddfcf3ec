//! Holds that expire: a crashed run is swept and its quota and slot come back, a heartbeat keeps
//! a long run alive, and an expired hold on a full slot is freed by the next reserve.

use billing::quota::rules::{Bucket, Outcome, Refusal, RunKind};
use billing::quota::store::QuotaError;
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::values::org;
use chrono::Duration;

#[tokio::test]
async fn a_crashed_run_is_swept_after_expiry_and_its_quota_and_slot_come_back() {
    let ctx = TestContext::new().await;
    ctx.account("crash").await;
    reserve(&ctx, "crash", "lost", RunKind::Standard).await.unwrap();
    assert!(matches!(
        reserve(&ctx, "crash", "next", RunKind::Standard).await,
        Err(QuotaError::Refused(Refusal::ConcurrencyFull { .. }))
    ));

    // Before expiry the sweeper leaves the hold alone.
    ctx.clock.advance(Duration::minutes(29));
    let summary = cron_expire_holds::handle(ctx.app.clone(), serde_json::json!({})).await.unwrap();
    assert_eq!(summary["released"], 0);

    ctx.clock.advance(Duration::minutes(2));
    let summary = cron_expire_holds::handle(ctx.app.clone(), serde_json::json!({})).await.unwrap();
    assert_eq!(summary["released"], 1);
    let account = ctx.stored_account("crash").await;
    assert_eq!((account.holds.len(), account.free_remaining), (0, 5));

    // The worker comes back late: its commit is refused and changes nothing; a release says
    // the hold already expired. A second sweep finds nothing.
    let now = ctx.app.now();
    let late = ctx.app.store.commit(&org("crash"), "lost", None, false, None, now).await;
    assert_eq!(billing::ApiError::from(late.unwrap_err()).status().as_u16(), 410);
    let released = ctx.app.store.release(&org("crash"), "lost", now).await.unwrap();
    assert_eq!((released.settlement.outcome, released.created), (Outcome::Expired, false));
    assert_eq!(ctx.stored_account("crash").await.free_remaining, 5);
    let summary = cron_expire_holds::handle(ctx.app.clone(), serde_json::json!({})).await.unwrap();
    assert_eq!(summary["due"], 0);
    assert!(ctx.items_with_prefix("USAGE#").await.is_empty());
}

#[tokio::test]
async fn a_heartbeat_keeps_a_long_run_alive_past_its_first_expiry() {
    let ctx = TestContext::new().await;
    ctx.account("long").await;
    reserve(&ctx, "long", "slow", RunKind::Standard).await.unwrap();
    ctx.clock.advance(Duration::minutes(25));
    ctx.app.store.heartbeat(&org("long"), "slow", ctx.app.now(), ctx.app.hold_ttl()).await.unwrap();
    ctx.clock.advance(Duration::minutes(25));

    let summary = cron_expire_holds::handle(ctx.app.clone(), serde_json::json!({})).await.unwrap();

    assert_eq!(summary["released"], 0);
    assert!(ctx.app.store.commit(&org("long"), "slow", None, false, None, ctx.app.now()).await.unwrap().created);
}

#[tokio::test]
async fn a_full_slot_held_by_an_expired_run_is_freed_by_the_next_reserve() {
    let ctx = TestContext::new().await;
    ctx.account("stale").await;
    reserve(&ctx, "stale", "dead", RunKind::Standard).await.unwrap();
    ctx.clock.advance(Duration::minutes(31));

    let next = reserve(&ctx, "stale", "alive", RunKind::Standard).await.unwrap();

    assert_eq!(next.hold.bucket, Bucket::Free);
    let account = ctx.stored_account("stale").await;
    assert_eq!(account.holds.keys().collect::<Vec<_>>(), ["alive"]);
    let dead = ctx.app.store.run_record(&org("stale"), "dead").await.unwrap().unwrap();
    assert_eq!(dead.settlement.unwrap().outcome, Outcome::Expired);
    assert_eq!(account.free_remaining, 4, "the dead run's unit came back before the new one was taken");
}
