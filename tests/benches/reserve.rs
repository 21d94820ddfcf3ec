//! Reservation throughput and latency against DynamoDB Local: one hot organization (every
//! caller on the same account item) and many organizations (one each), with 1, 8 and 32
//! concurrent callers. Each operation is a reserve followed by a release, so quota never runs
//! out; only the reserve is timed.
//!
//! Run with `make bench` (it starts the emulators). BENCH_OPS sets operations per caller.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::domain::OrganizationId;
use billing::domain::quota::{ReserveRequest, RunKind};
use billing_tests::TestContext;

struct Result {
    scenario: String,
    callers: usize,
    reserves: usize,
    per_second: u128,
    p50: Duration,
    p99: Duration,
    /// DynamoDB requests per reserve, in hundredths.
    calls_per_reserve_centi: usize,
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs this binary without `--bench`: then a tiny smoke run keeps
    // the benchmark compiling and working without slowing the suite.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let default_ops = if benchmarking { 200 } else { 3 };
    let ops: usize = std::env::var("BENCH_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(default_ops);
    let mut results = Vec::new();
    for hot in [true, false] {
        for callers in [1usize, 8, 32] {
            results.push(run(hot, callers, ops).await);
        }
    }
    println!("\n| scenario | callers | reserves | reserves/s | p50 | p99 | DynamoDB requests per reserve |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in results {
        println!(
            "| {} | {} | {} | {} | {:.1?} | {:.1?} | {}.{:02} |",
            r.scenario,
            r.callers,
            r.reserves,
            r.per_second,
            r.p50,
            r.p99,
            r.calls_per_reserve_centi / 100,
            r.calls_per_reserve_centi % 100
        );
    }
}

async fn run(hot: bool, callers: usize, ops: usize) -> Result {
    let ctx = Arc::new(TestContext::new().await);
    let org_of = |caller: usize| {
        if hot { "hot".to_owned() } else { format!("org-{caller}") }
    };
    for caller in 0..callers {
        // Enterprise: no quota or concurrency limit, so only write contention is measured.
        let set = "SET tier = :t";
        ctx.update_account(&org_of(caller), set, &[(":t", AttributeValue::S("enterprise".into()))]).await;
        if hot {
            break;
        }
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    let reserve_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for caller in 0..callers {
        let ctx = ctx.clone();
        let org = OrganizationId::parse(&org_of(caller)).unwrap();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(ops);
            for i in 0..ops {
                let request = ReserveRequest {
                    run_id: format!("c{caller}-{i}"),
                    kind: RunKind::Standard,
                    estimated_cost_cents: None,
                };
                let t = Instant::now();
                ctx.app
                    .store
                    .reserve(&org, &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl())
                    .await
                    .expect("reserve");
                latencies.push(t.elapsed());
                ctx.app.store.release(&org, &request.run_id, ctx.app.now()).await.expect("release");
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("caller finished"));
    }
    let elapsed = started.elapsed();
    let calls = ctx.calls.take();
    // Releases are a GetItem plus an UpdateItem each; what remains is what reserves cost.
    let reserves = latencies.len();
    let reserve_requests = calls.values().sum::<u32>() as usize - 2 * reserves;
    reserve_calls.fetch_add(reserve_requests, std::sync::atomic::Ordering::Relaxed);
    latencies.sort();
    let pct = |percent: usize| latencies[(latencies.len() * percent / 100).min(latencies.len() - 1)];
    Result {
        scenario: if hot { "one hot org".into() } else { "one org per caller".into() },
        callers,
        reserves,
        // Throughput counts reserve+release pairs, so it is a lower bound for reserves alone.
        per_second: (reserves as u128 * 1_000_000) / elapsed.as_micros().max(1),
        p50: pct(50),
        p99: pct(99),
        calls_per_reserve_centi: reserve_requests * 100 / reserves,
    }
}
