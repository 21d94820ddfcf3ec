//! The first reserve of a process that has not seen the organization (a cold Lambda
//! sandbox): what each [`FirstAttempt`] strategy sends and is billed, and what the default
//! does when the read is stale, the run was settled before or DynamoDB throttles the batch.

use std::collections::BTreeMap;

use billing::quota::rules::{Outcome, Refusal, ReserveRequest, RunKind};
use billing::quota::store::{FirstAttempt, QuotaError, Reserved};
use billing::store::Store;
use billing_tests::TestContext;
use billing_tests::capacity::Consumed;
use billing_tests::faults::{Fault, FaultInjector};
use billing_tests::values::{n, org, s};

/// A store as a new sandbox has it: the test's counted client, no remembered state.
fn cold_store(ctx: &TestContext, first_attempt: FirstAttempt) -> Store {
    Store::new(ctx.app.store.client().clone(), ctx.app.config.table_name.as_str()).with_first_attempt(first_attempt)
}

async fn reserve_on(store: &Store, ctx: &TestContext, org_name: &str, run_id: &str) -> Result<Reserved, QuotaError> {
    let request = ReserveRequest { run_id: run_id.to_owned(), kind: RunKind::Standard, estimated_cost_cents: None };
    store.reserve(&org(org_name), &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await
}

fn operations(consumed: &Consumed) -> Vec<(&str, u32)> {
    consumed.operations.iter().map(|(op, count)| (op.as_str(), *count)).collect()
}

async fn paying_account(ctx: &TestContext, name: &str, tier: &str) {
    ctx.update_account(
        name,
        "SET tier = :t, credit_balance_cents = :c, has_payment_method = :pm",
        &[(":t", s(tier)), (":c", n(100_000)), (":pm", aws_sdk_dynamodb::types::AttributeValue::Bool(true))],
    )
    .await;
}

#[tokio::test]
async fn each_strategy_sends_what_it_promises_on_a_cold_and_then_a_warm_reserve() {
    use FirstAttempt::{ConsistentRead, EventualRead, Guess};
    type Ops = &'static [(&'static str, u32)];
    // (tier, strategy, cold reserve, failed conditions, warm reserve)
    let cases: [(&str, FirstAttempt, Ops, u32, Ops); 9] = [
        ("free", Guess, &[("GetItem", 1), ("UpdateItem", 1)], 0, &[("GetItem", 1), ("UpdateItem", 1)]),
        ("free", EventualRead, &[("BatchGetItem", 1), ("UpdateItem", 1)], 0, &[("GetItem", 1), ("UpdateItem", 1)]),
        ("free", ConsistentRead, &[("BatchGetItem", 1), ("UpdateItem", 1)], 0, &[("GetItem", 1), ("UpdateItem", 1)]),
        // A paying organization fails the fresh-account guess: a write billed for nothing.
        ("pro", Guess, &[("GetItem", 1), ("UpdateItem", 2)], 1, &[("GetItem", 1), ("UpdateItem", 1)]),
        ("pro", EventualRead, &[("BatchGetItem", 1), ("UpdateItem", 1)], 0, &[("GetItem", 1), ("UpdateItem", 1)]),
        ("pro", ConsistentRead, &[("BatchGetItem", 1), ("UpdateItem", 1)], 0, &[("GetItem", 1), ("UpdateItem", 1)]),
        // Run items: the put cannot re-check the account, so it is decided on a consistent read.
        (
            "enterprise",
            Guess,
            &[("GetItem", 1), ("PutItem", 1), ("UpdateItem", 1)],
            1,
            &[("GetItem", 1), ("PutItem", 1)],
        ),
        (
            "enterprise",
            EventualRead,
            &[("BatchGetItem", 1), ("GetItem", 1), ("PutItem", 1)],
            0,
            &[("GetItem", 1), ("PutItem", 1)],
        ),
        ("enterprise", ConsistentRead, &[("BatchGetItem", 1), ("PutItem", 1)], 0, &[("GetItem", 1), ("PutItem", 1)]),
    ];
    let ctx = TestContext::new().await;
    for (i, (tier, strategy, cold, failed, warm)) in cases.into_iter().enumerate() {
        let name = format!("{tier}-{i}");
        if tier == "free" {
            ctx.account(&name).await;
        } else {
            paying_account(&ctx, &name, tier).await;
        }
        let store = cold_store(&ctx, strategy);
        ctx.capacity.take();
        let first = reserve_on(&store, &ctx, &name, "run-1").await;
        assert!(first.as_ref().is_ok_and(|r| r.created), "{tier} {strategy:?}: {first:?}");
        let spent = ctx.capacity.take();
        assert_eq!(operations(&spent), cold, "{tier} {strategy:?}, cold");
        assert_eq!(spent.failed_conditions, failed, "{tier} {strategy:?}, cold");
        // Released through the same sandbox, which then knows the account as it is.
        store.release(&org(&name), "run-1", ctx.app.now()).await.expect("released");
        ctx.capacity.take();
        let second = reserve_on(&store, &ctx, &name, "run-2").await;
        assert!(second.as_ref().is_ok_and(|r| r.created), "{tier} {strategy:?}: {second:?}");
        let spent = ctx.capacity.take();
        assert_eq!(operations(&spent), warm, "{tier} {strategy:?}, warm");
        assert_eq!(spent.failed_conditions, 0, "{tier} {strategy:?}, warm");
    }
}

#[tokio::test]
async fn the_default_first_read_is_one_eventually_consistent_request_for_both_items() {
    let ctx = TestContext::new().await;
    paying_account(&ctx, "reader", "pro").await;
    let store = cold_store(&ctx, FirstAttempt::default());
    ctx.capacity.take();

    reserve_on(&store, &ctx, "reader", "run-1").await.expect("granted");

    let spent = ctx.capacity.take();
    assert_eq!(spent.round_trips(), 2, "the read, then the write");
    // Items under 4 KB read eventually consistent: half a unit each (DynamoDB Local bills
    // the missing run record nothing; AWS bills at most its half unit).
    assert!(spent.read_units > 0.0 && spent.read_units <= 1.0, "{spent:?}");
    assert_eq!(spent.write_units, 1.0);
}

#[tokio::test]
async fn a_cold_retry_of_a_settled_run_is_answered_from_the_read_and_takes_nothing() {
    let ctx = TestContext::new().await;
    paying_account(&ctx, "settled", "pro").await;
    let warm = cold_store(&ctx, FirstAttempt::default());
    reserve_on(&warm, &ctx, "settled", "run-1").await.expect("granted");
    ctx.app.store.commit(&org("settled"), "run-1", None, false, None, ctx.app.now()).await.expect("committed");
    let before = ctx.stored_account("settled").await;
    ctx.capacity.take();

    let retried = reserve_on(&cold_store(&ctx, FirstAttempt::default()), &ctx, "settled", "run-1").await;

    assert!(matches!(retried, Err(QuotaError::AlreadySettled { outcome: Outcome::Committed, .. })), "{retried:?}");
    assert_eq!(operations(&ctx.capacity.take()), [("BatchGetItem", 1)]);
    let after = ctx.stored_account("settled").await;
    assert_eq!((after.holds.len(), after.period_used), (before.holds.len(), before.period_used));
}

#[tokio::test]
async fn a_refusal_decided_on_an_eventually_consistent_read_is_confirmed_by_a_consistent_one() {
    let ctx = TestContext::new().await;
    ctx.update_account("spent", "SET free_remaining = :zero", &[(":zero", n(0))]).await;
    ctx.capacity.take();

    let refused = reserve_on(&cold_store(&ctx, FirstAttempt::EventualRead), &ctx, "spent", "run-1").await;

    assert!(matches!(refused, Err(QuotaError::Refused(Refusal::Exhausted))), "{refused:?}");
    assert_eq!(operations(&ctx.capacity.take()), [("BatchGetItem", 1), ("GetItem", 1)], "nothing written");
    assert_eq!(ctx.stored_account("spent").await.holds.len(), 0);
}

#[tokio::test]
async fn a_stale_state_costs_one_failed_condition_and_the_answer_comes_from_the_item_dynamodb_returns() {
    let ctx = TestContext::new().await;
    paying_account(&ctx, "moving", "pro").await;
    let store = cold_store(&ctx, FirstAttempt::default());
    // The sandbox's state, then changed behind its back: what an eventually consistent read
    // may also return within the replication lag.
    reserve_on(&store, &ctx, "moving", "run-0").await.expect("granted");
    ctx.update_account("moving", "SET #status = :s", &[(":s", s("suspended"))]).await;
    ctx.capacity.take();

    let refused = reserve_on(&store, &ctx, "moving", "run-1").await;

    assert!(matches!(refused, Err(QuotaError::Refused(Refusal::Suspended))), "{refused:?}");
    let spent = ctx.capacity.take();
    assert_eq!(spent.failed_conditions, 1);
    // The refusal rests on the item the failed condition returned: no further read.
    assert_eq!(operations(&spent), [("GetItem", 1), ("UpdateItem", 1)]);
}

#[tokio::test]
async fn a_throttled_batch_is_read_key_by_key_and_the_reserve_still_decides_on_both_items() {
    let faults = FaultInjector::always("BatchGetItem", Fault::Unprocessed);
    let ctx = TestContext::with_faults(faults.clone()).await;
    paying_account(&ctx, "throttled", "pro").await;
    ctx.app
        .store
        .reserve(
            &org("throttled"),
            &ReserveRequest { run_id: "done".into(), kind: RunKind::Standard, estimated_cost_cents: None },
            ctx.app.catalog(),
            ctx.app.now(),
            ctx.app.hold_ttl(),
        )
        .await
        .expect("granted");
    ctx.app.store.commit(&org("throttled"), "done", None, false, None, ctx.app.now()).await.expect("committed");
    ctx.capacity.take();

    let fresh = reserve_on(&cold_store(&ctx, FirstAttempt::default()), &ctx, "throttled", "run-1").await;
    assert!(fresh.as_ref().is_ok_and(|r| r.created), "{fresh:?}");
    assert_eq!(operations(&ctx.capacity.take()), [("BatchGetItem", 1), ("GetItem", 2), ("UpdateItem", 1)]);

    let retried = reserve_on(&cold_store(&ctx, FirstAttempt::default()), &ctx, "throttled", "done").await;
    assert!(matches!(retried, Err(QuotaError::AlreadySettled { outcome: Outcome::Committed, .. })), "{retried:?}");
    assert_eq!(faults.injected(), BTreeMap::from([(Fault::Unprocessed, 3)]));
}
