//! The quota engine under concurrency: racing reserves grant exactly what the item holds, and
//! repeated reserves, commits and releases of one run take and settle it once.

use std::collections::BTreeMap;

use billing::quota::rules::RunKind;
use billing::quota::store::{QuotaError, Reserved};
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::values::{n, org, s};
use futures::future::join_all;

/// Outcome of a batch of concurrent reserves: granted buckets and refusal codes.
fn tally(results: &[Result<Reserved, QuotaError>]) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let mut granted = BTreeMap::new();
    let mut refused = BTreeMap::new();
    for result in results {
        match result {
            Ok(r) => *granted.entry(format!("{:?}", r.hold.bucket)).or_default() += 1,
            Err(e) => *refused.entry(billing::ApiError::from(clone_err(e)).code().to_owned()).or_default() += 1,
        }
    }
    (granted, refused)
}

fn clone_err(e: &QuotaError) -> QuotaError {
    match e {
        QuotaError::Refused(r) => QuotaError::Refused(r.clone()),
        QuotaError::Contended => QuotaError::Contended,
        other => QuotaError::NotFound(other.to_string()),
    }
}

#[tokio::test]
async fn sixty_four_concurrent_reserves_on_a_single_slot_grant_exactly_one() {
    let ctx = TestContext::new().await;
    ctx.account("hot").await;

    let results = join_all((0..64).map(|i| reserve(&ctx, "hot", format!("run-{i}"), RunKind::Standard))).await;

    let (granted, refused) = tally(&results);
    assert_eq!(granted, BTreeMap::from([("Free".to_owned(), 1)]));
    assert_eq!(refused, BTreeMap::from([("concurrency_limit".to_owned(), 63)]));
    let account = ctx.stored_account("hot").await;
    assert_eq!((account.holds.len(), account.free_remaining), (1, 4));
}

#[tokio::test]
async fn sixty_four_concurrent_reserves_across_buckets_grant_exactly_what_exists() {
    let ctx = TestContext::new().await;
    // Team tier: 15 slots, so quota (not concurrency) is the limit: 3 free + 2 credit runs
    // ($25 at $10 each) + 5 left of the 500 subscription workflows = 10 runs.
    ctx.update_account(
        "busy",
        "SET tier = :tier, free_remaining = :free, credit_balance_cents = :credits, period_used = :used",
        &[(":tier", s("team")), (":free", n(3)), (":credits", n(2_500)), (":used", n(495))],
    )
    .await;

    let results = join_all((0..64).map(|i| reserve(&ctx, "busy", format!("run-{i}"), RunKind::Standard))).await;

    let (granted, refused) = tally(&results);
    assert_eq!(
        granted,
        BTreeMap::from([("Credits".to_owned(), 2), ("Free".to_owned(), 3), ("Subscription".to_owned(), 5)])
    );
    assert_eq!(refused, BTreeMap::from([("quota_exhausted".to_owned(), 54)]));
    let account = ctx.stored_account("busy").await;
    assert_eq!(account.free_remaining, 0);
    assert_eq!((account.credit_balance_cents, account.credit_held_cents), (500, 2_000));
    assert_eq!(account.period_used, 500);
    assert_eq!(account.holds.len(), 10);
}

#[tokio::test]
async fn sixty_four_concurrent_reserves_fill_every_slot_of_a_five_agent_plan_and_no_more() {
    let ctx = TestContext::new().await;
    ctx.update_account("pro", "SET tier = :tier, period_used = :zero", &[(":tier", s("pro")), (":zero", n(0))]).await;

    let results = join_all((0..64).map(|i| reserve(&ctx, "pro", format!("run-{i}"), RunKind::Complex))).await;

    let (granted, refused) = tally(&results);
    assert_eq!(granted.values().sum::<usize>(), 5, "{granted:?}");
    assert_eq!(refused, BTreeMap::from([("concurrency_limit".to_owned(), 59)]));
    assert_eq!(ctx.stored_account("pro").await.holds.len(), 5);
}

#[tokio::test]
async fn reserving_the_same_run_twice_concurrently_takes_quota_once() {
    let ctx = TestContext::new().await;
    ctx.update_account("twice", "SET tier = :tier", &[(":tier", s("pro"))]).await;

    let (a, b) = tokio::join!(
        reserve(&ctx, "twice", "same", RunKind::Standard),
        reserve(&ctx, "twice", "same", RunKind::Standard)
    );
    let (a, b) = (a.unwrap(), b.unwrap());

    assert_eq!(a.hold, b.hold);
    assert_eq!([a.created, b.created].iter().filter(|c| **c).count(), 1, "exactly one call created the hold");
    assert_eq!(ctx.stored_account("twice").await.free_remaining, 4);
}

#[tokio::test]
async fn commit_and_release_replays_change_nothing_twice() {
    let ctx = TestContext::new().await;
    ctx.update_account(
        "replay",
        "SET tier = :tier, free_remaining = :zero, credit_balance_cents = :c",
        &[(":tier", s("pro")), (":zero", n(0)), (":c", n(5_000))],
    )
    .await;
    reserve(&ctx, "replay", "paid", RunKind::Standard).await.unwrap();
    reserve(&ctx, "replay", "dropped", RunKind::Standard).await.unwrap();
    let store = &ctx.app.store;
    let now = ctx.app.now();

    let o = org("replay");
    let (c1, c2) = tokio::join!(
        store.commit(&o, "paid", Some(700), false, None, now),
        store.commit(&o, "paid", Some(700), false, None, now)
    );
    let (c1, c2) = (c1.unwrap(), c2.unwrap());
    assert_eq!(c1.usage.id, c2.usage.id);
    assert_eq!([c1.created, c2.created].iter().filter(|c| **c).count(), 1);

    let (r1, r2) = tokio::join!(store.release(&o, "dropped", now), store.release(&o, "dropped", now));
    assert_eq!(r1.unwrap().settlement, r2.unwrap().settlement);

    let account = ctx.stored_account("replay").await;
    // 5000 - 700 spent; the dropped run's 1000 came back.
    assert_eq!((account.credit_balance_cents, account.credit_held_cents), (4_300, 0));
    assert_eq!(ctx.items_with_prefix("USAGE#").await.len(), 1);
    let ledger = ctx.items_with_prefix("LEDGER#").await;
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["amount_cents"].as_n().unwrap(), "-700");

    // A settled run cannot be reserved, committed or released into a second outcome.
    assert!(matches!(reserve(&ctx, "replay", "paid", RunKind::Standard).await, Err(QuotaError::AlreadySettled { .. })));
    assert!(matches!(store.release(&org("replay"), "paid", now).await, Err(QuotaError::AlreadySettled { .. })));
    assert!(matches!(
        store.commit(&org("replay"), "dropped", None, false, None, now).await,
        Err(QuotaError::AlreadySettled { .. })
    ));
}
