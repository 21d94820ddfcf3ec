//! The quota engine against DynamoDB Local: grants never exceed what the item holds, under
//! concurrency, retries, crashes and month boundaries.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::quota::rules::{Bucket, Outcome, Refusal, ReserveRequest, RunKind};
use billing::quota::store::{QuotaError, Reserved};
use billing_tests::TestContext;
use chrono::{Duration, TimeZone, Utc};
use futures::future::join_all;

pub(crate) fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub(crate) async fn reserve(
    ctx: &TestContext,
    org_name: &str,
    run_id: impl Into<String>,
    kind: RunKind,
) -> Result<Reserved, QuotaError> {
    let request = ReserveRequest { run_id: run_id.into(), kind, estimated_cost_cents: None };
    ctx.app.store.reserve(&org(org_name), &request, ctx.app.catalog(), ctx.clock_now(), ctx.app.hold_ttl()).await
}

trait ClockNow {
    fn clock_now(&self) -> chrono::DateTime<Utc>;
}

impl ClockNow for TestContext {
    fn clock_now(&self) -> chrono::DateTime<Utc> {
        self.app.now()
    }
}

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

/// Random interleavings of reserve, heartbeat, commit, release, clock jumps and sweeps over
/// several runs, four at a time on one account item, must leave buckets, usage records and
/// the ledger reconciling exactly. Every outcome is checked against what may happen.
#[tokio::test]
async fn random_operation_sequences_always_reconcile() {
    // QUOTA_RANDOM_SEEDS=200 explores more interleavings locally; CI runs a handful.
    let seeds: u64 = std::env::var("QUOTA_RANDOM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    for seed in 1..=seeds {
        let ctx = TestContext::new().await;
        let books = Books::open(&ctx, "rnd", "starter", 4_000, 3).await;
        let mut rng = fastrand::Rng::with_seed(seed);
        let runs: Vec<String> = (0..8).map(|i| format!("r{i}")).collect();
        for _ in 0..30 {
            let batch: Vec<Op> = (0..4).map(|_| Op::random(&mut rng, &runs)).collect();
            for (op, outcome) in join_all(batch.into_iter().map(|op| op.apply(&ctx, "rnd"))).await {
                assert!(outcome.is_expected(), "seed {seed}: {op:?} answered {outcome}");
            }
        }
        books.quiesce_and_check(&ctx, &format!("seed {seed}")).await;
    }
}

/// An account's starting balances, and the check that everything that happened since
/// reconciles with them.
pub(crate) struct Books {
    org: String,
    credits: i64,
    free: u32,
}

impl Books {
    pub(crate) async fn open(ctx: &TestContext, org: &str, tier: &str, credits: i64, free: u32) -> Self {
        ctx.update_account(
            org,
            "SET tier = :tier, credit_balance_cents = :c, free_remaining = :f, has_payment_method = :pm",
            &[(":tier", s(tier)), (":c", n(credits)), (":f", n(i64::from(free))), (":pm", AttributeValue::Bool(true))],
        )
        .await;
        Self { org: org.to_owned(), credits, free }
    }

    /// Releases whatever is still open, then checks every invariant of the books.
    pub(crate) async fn quiesce_and_check(&self, ctx: &TestContext, label: &str) {
        let o = org(&self.org);
        let open: Vec<String> = ctx.stored_account(&self.org).await.holds.keys().cloned().collect();
        for run in open {
            let released = ctx.app.store.release(&o, &run, ctx.app.now()).await;
            assert!(
                matches!(released, Ok(_) | Err(QuotaError::AlreadySettled { .. })),
                "{label}: quiescing {run}: {released:?}"
            );
        }
        let account = ctx.stored_account(&self.org).await;
        let usage = ctx.items_with_prefix("USAGE#").await;
        let ledger: i64 = ctx
            .items_with_prefix("LEDGER#")
            .await
            .iter()
            .map(|e| e["amount_cents"].as_n().unwrap().parse::<i64>().unwrap())
            .sum();
        let count = |bucket: &str| usage.iter().filter(|u| u["bucket"].as_s().unwrap() == bucket).count() as u32;
        let credit_spent: i64 = usage
            .iter()
            .filter(|u| u["bucket"].as_s().unwrap() == "credits")
            .map(|u| u["charged_cents"].as_n().unwrap().parse::<i64>().unwrap())
            .sum();

        assert!(account.holds.is_empty(), "{label}: holds left {:?}", account.holds);
        assert_eq!(account.credit_held_cents, 0, "{label}: nothing held after quiescence: {account:?}");
        assert_eq!(account.credit_balance_cents, self.credits + ledger, "{label}: balance = start + ledger");
        assert_eq!(-ledger, credit_spent, "{label}: ledger = credit usage");
        assert!(account.credit_balance_cents >= 0, "{label}");
        assert_eq!(account.free_remaining + count("free"), self.free, "{label}: free units are used or back");
        assert_eq!(account.period_used, count("subscription"), "{label}: subscription usage = records");
        assert_eq!(u64::try_from(usage.len()).unwrap(), account.total_workflows_completed, "{label}");
        // A run id is charged at most once, and only by the settlement its record names.
        let runs = ctx.items_with_prefix("RUN#").await;
        let mut seen = std::collections::BTreeSet::new();
        for record in &usage {
            let run = record["run_id"].as_s().unwrap();
            assert!(seen.insert(run.clone()), "{label}: run {run} has two usage records");
            let settled = runs.iter().find(|r| r["run_id"].as_s().unwrap() == run).expect("a run record");
            let settlement = settled["settlement"].as_m().unwrap();
            assert_eq!(settlement["outcome"].as_s().unwrap(), "committed", "{label}: {run}");
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Reserve(String, RunKind),
    Heartbeat(String),
    Commit { run: String, actual: Option<i64>, approved: bool },
    Release(String),
    TickAndSweep(i64),
}

/// What an operation answered, reduced to what may legitimately happen.
#[derive(Debug)]
pub(crate) enum Answer {
    Done,
    /// A refusal the engine gives by design (no quota, slots full, run settled or unknown, …).
    Refused(String),
    /// Retries exhausted under injected faults: the client is told 503 and to retry.
    Unavailable,
    /// Anything else: a bug.
    Failed(String),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Done => f.write_str("done"),
            Self::Refused(why) => write!(f, "refused: {why}"),
            Self::Unavailable => f.write_str("unavailable"),
            Self::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

impl Answer {
    fn of<T>(result: Result<T, QuotaError>) -> Self {
        match result {
            Ok(_) => Self::Done,
            Err(
                err @ (QuotaError::Refused(_)
                | QuotaError::AlreadySettled { .. }
                | QuotaError::NotFound(_)
                | QuotaError::ExceedsHold(_)
                | QuotaError::Contended),
            ) => Self::Refused(err.to_string()),
            Err(QuotaError::Store(err)) if err.is_unavailable() => Self::Unavailable,
            Err(err) => Self::Failed(err.to_string()),
        }
    }

    pub(crate) fn is_expected(&self) -> bool {
        matches!(self, Self::Done | Self::Refused(_))
    }
}

impl Op {
    pub(crate) fn random(rng: &mut fastrand::Rng, runs: &[String]) -> Self {
        let run = runs[rng.usize(..runs.len())].clone();
        match rng.u8(..6) {
            0 | 1 => Op::Reserve(run, if rng.bool() { RunKind::Standard } else { RunKind::Complex }),
            2 => Op::Heartbeat(run),
            3 => Op::Commit { run, actual: rng.bool().then(|| rng.i64(0..=1_600)), approved: rng.bool() },
            4 => Op::Release(run),
            _ => Op::TickAndSweep(rng.i64(1..=20)),
        }
    }

    /// Applies the operation and says how it ended.
    pub(crate) async fn apply(self, ctx: &TestContext, org_name: &str) -> (Self, Answer) {
        let (store, now, o) = (&ctx.app.store, ctx.app.now(), org(org_name));
        let answer = match &self {
            Op::Reserve(run, kind) => Answer::of(reserve(ctx, org_name, run.clone(), *kind).await),
            Op::Heartbeat(run) => Answer::of(store.heartbeat(&o, run, now, ctx.app.hold_ttl()).await),
            Op::Commit { run, actual, approved } => {
                Answer::of(store.commit(&o, run, *actual, *approved, None, now).await)
            }
            Op::Release(run) => Answer::of(store.release(&o, run, now).await),
            Op::TickAndSweep(minutes) => {
                ctx.clock.advance(Duration::minutes(*minutes));
                match cron_expire_holds::handle(ctx.app.clone(), serde_json::json!({})).await {
                    Ok(summary) if summary["failed"] == 0 => Answer::Done,
                    Ok(summary) => Answer::Failed(format!("sweep failed on some entries: {summary}")),
                    Err(err)
                        if err.downcast_ref::<billing::store::StoreError>().is_some_and(|e| e.is_unavailable()) =>
                    {
                        Answer::Unavailable
                    }
                    Err(err) => Answer::Failed(format!("{err:#}")),
                }
            }
        };
        (self, answer)
    }
}

/// The store remembers the last account state it saw; another process (the Stripe processor
/// granting credits, a renewal restarting the period) changes the account behind its back.
/// A grant decided on the remembered state must not skip the cheaper buckets now there.
#[tokio::test]
async fn a_grant_decided_on_a_remembered_account_never_skips_credits_or_quota_added_meanwhile() {
    let ctx = TestContext::new().await;
    ctx.account("stale").await;
    let month = ctx.clock_now().format("%Y-%m").to_string();
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
        ctx.app.store.release(&org("stale"), run, ctx.clock_now()).await.unwrap();
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
