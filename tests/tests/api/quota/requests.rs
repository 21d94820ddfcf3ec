//! What the quota engine asks of DynamoDB: the requests an uncontended reserve, a commit and a
//! release send.

use std::collections::BTreeMap;

use billing::quota::rules::RunKind;
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::values::org;

#[tokio::test]
async fn an_uncontended_reserve_is_one_write_after_one_read_of_the_account_and_run_record_together() {
    let ctx = TestContext::new().await;
    ctx.account("solo").await;
    ctx.calls.take();

    // This process has not seen the account: one request reads it with the run record.
    reserve(&ctx, "solo", "run-1", RunKind::Standard).await.unwrap();
    assert_eq!(ctx.calls.take(), BTreeMap::from([("BatchGetItem".to_owned(), 1), ("UpdateItem".to_owned(), 1)]));

    // Later reserves decide on the state the last write returned, and read the run record alongside.
    ctx.app.store.release(&org("solo"), "run-1", ctx.app.now()).await.unwrap();
    ctx.calls.take();
    reserve(&ctx, "solo", "run-2", RunKind::Complex).await.unwrap();
    assert_eq!(ctx.calls.take(), BTreeMap::from([("GetItem".to_owned(), 1), ("UpdateItem".to_owned(), 1)]));
}

#[tokio::test]
async fn commit_and_release_write_the_account_item_once_and_never_in_a_transaction() {
    let ctx = TestContext::new().await;
    ctx.account("costs").await;
    reserve(&ctx, "costs", "a", RunKind::Standard).await.unwrap();
    ctx.calls.take();
    ctx.app.store.commit(&org("costs"), "a", None, false, None, ctx.app.now()).await.unwrap();
    // Account read, run record (the decision), usage record with its day's run count (one
    // small transaction of two per-run/per-day items, never the account), account update.
    assert_eq!(
        ctx.calls.take(),
        BTreeMap::from([
            ("GetItem".to_owned(), 1),
            ("PutItem".to_owned(), 1),
            ("TransactWriteItems".to_owned(), 1),
            ("UpdateItem".to_owned(), 1)
        ])
    );

    reserve(&ctx, "costs", "b", RunKind::Standard).await.unwrap();
    ctx.calls.take();
    ctx.app.store.release(&org("costs"), "b", ctx.app.now()).await.unwrap();
    assert_eq!(
        ctx.calls.take(),
        BTreeMap::from([("GetItem".to_owned(), 1), ("PutItem".to_owned(), 1), ("UpdateItem".to_owned(), 1)])
    );
}
