//! Random interleavings of every quota operation leave the books reconciling exactly.

use billing::quota::rules::RunKind;
use billing::quota::store::QuotaError;
use billing_tests::TestContext;
use billing_tests::quota::{Books, reserve};
use billing_tests::values::org;
use chrono::Duration;
use futures::future::join_all;

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

#[derive(Debug, Clone)]
enum Op {
    Reserve(String, RunKind),
    Heartbeat(String),
    Commit { run: String, actual: Option<i64>, approved: bool },
    Release(String),
    TickAndSweep(i64),
}

/// What an operation answered, reduced to what may legitimately happen.
#[derive(Debug)]
enum Answer {
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

    fn is_expected(&self) -> bool {
        matches!(self, Self::Done | Self::Refused(_))
    }
}

impl Op {
    fn random(rng: &mut fastrand::Rng, runs: &[String]) -> Self {
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
    async fn apply(self, ctx: &TestContext, org_name: &str) -> (Self, Answer) {
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
