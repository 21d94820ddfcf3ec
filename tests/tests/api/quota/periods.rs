//! Month boundaries: the free quota resets lazily, and a run from last month never inflates the
//! new one.

use billing::quota::rules::{Bucket, Refusal, RunKind};
use billing::quota::store::QuotaError;
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::values::{org, s};
use chrono::{TimeZone, Utc};

#[tokio::test]
async fn the_free_quota_resets_lazily_at_the_month_boundary() {
    let ctx = TestContext::new().await;
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 0).unwrap());
    ctx.account("monthly").await;
    for i in 0..5 {
        reserve(&ctx, "monthly", &format!("nov-{i}"), RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org("monthly"), &format!("nov-{i}"), None, false, None, ctx.app.now()).await.unwrap();
    }
    assert!(matches!(
        reserve(&ctx, "monthly", "nov-6", RunKind::Standard).await,
        Err(QuotaError::Refused(Refusal::Exhausted))
    ));

    ctx.clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
    let december = reserve(&ctx, "monthly", "dec-1", RunKind::Standard).await.unwrap();

    assert_eq!(december.hold.bucket, Bucket::Free);
    assert_eq!(december.hold.period, "2026-12");
    let account = ctx.stored_account("monthly").await;
    assert_eq!((account.free_period.as_str(), account.free_remaining), ("2026-12", 4));
}

#[tokio::test]
async fn releasing_a_free_run_from_last_month_does_not_inflate_the_new_month() {
    let ctx = TestContext::new().await;
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 23, 50, 0).unwrap());
    ctx.update_account("edge", "SET tier = :tier", &[(":tier", s("pro"))]).await;
    reserve(&ctx, "edge", "late-nov", RunKind::Standard).await.unwrap();
    ctx.clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 5, 0).unwrap());
    reserve(&ctx, "edge", "early-dec", RunKind::Standard).await.unwrap();

    ctx.app.store.release(&org("edge"), "late-nov", ctx.app.now()).await.unwrap();

    let account = ctx.stored_account("edge").await;
    assert_eq!((account.free_period.as_str(), account.free_remaining), ("2026-12", 4));
}
