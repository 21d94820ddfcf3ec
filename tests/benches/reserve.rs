//! Reservation throughput, latency and cost against DynamoDB Local.
//!
//! Scenarios:
//! - holds in the account map (tiers with a concurrency limit): one organization per caller,
//!   and one hot team organization with as many callers as it has slots (15);
//! - holds in run items (enterprise): one organization per caller, and one hot organization.
//!
//! Each operation is a reserve followed by a release, so quota never runs out; only the
//! reserve is timed and counted. Every caller has its own DynamoDB client with a request
//! counter and a capacity meter (`ReturnConsumedCapacity`), so the figures are the
//! reserve's own: requests, write and read units on the table, refused conditions.
//!
//! Then two more measurements, in modules of their own:
//! - [`floor`]: warm reserves against a bare conditional `UpdateItem` loop on a copy of the
//!   account item, from as many tasks;
//! - [`fleet`]: reserves routed over many short-lived sandboxes and many organizations, once
//!   per first-attempt strategy, with requests, round trips and billed units per reserve.
//!
//! Run with `make bench` (it starts the emulators). BENCH_OPS sets operations per caller,
//! BENCH_FLEET_RESERVES the fleet's reserves per strategy.

#[path = "reserve/fleet.rs"]
mod fleet;
#[path = "reserve/floor.rs"]
mod floor;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::App;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing::store::calls::CallCounter;
use billing_tests::TestContext;
use billing_tests::capacity::{CapacityMeter, Consumed};

#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    tier: &'static str,
    hot: bool,
}

struct Measured {
    scenario: &'static str,
    callers: usize,
    reserves: usize,
    per_second: u128,
    p50: Duration,
    p99: Duration,
    /// Per reserve, in thousandths.
    requests_milli: u64,
    write_units_milli: u64,
    read_units_milli: u64,
    failed_conditions_milli: u64,
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs this binary without `--bench`: then a tiny smoke run keeps
    // the benchmark compiling and working without slowing the suite.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let default_ops = if benchmarking { 200 } else { 3 };
    let ops: usize = std::env::var("BENCH_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(default_ops);
    let scenarios = [
        (Scenario { name: "account map, one org per caller (pro)", tier: "pro", hot: false }, vec![1, 8, 32]),
        (Scenario { name: "account map, one hot org (team)", tier: "team", hot: true }, vec![1, 5, 15]),
        (
            Scenario { name: "run items, one org per caller (enterprise)", tier: "enterprise", hot: false },
            vec![1, 8, 32],
        ),
        (Scenario { name: "run items, one hot org (enterprise)", tier: "enterprise", hot: true }, vec![1, 8, 32]),
    ];
    let mut results = Vec::new();
    for (scenario, callers) in scenarios {
        for n in callers {
            results.push(run(scenario, n, ops).await);
        }
    }
    println!(
        "\n| scenario | callers | reserves | pairs/s | reserve p50 | reserve p99 | requests | write units | read units | refused conditions |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let milli = |v: u64| format!("{}.{:02}", v / 1000, (v % 1000) / 10);
    for r in results {
        println!(
            "| {} | {} | {} | {} | {:.1?} | {:.1?} | {} | {} | {} | {} |",
            r.scenario,
            r.callers,
            r.reserves,
            r.per_second,
            r.p50,
            r.p99,
            milli(r.requests_milli),
            milli(r.write_units_milli),
            milli(r.read_units_milli),
            milli(r.failed_conditions_milli),
        );
    }
    println!("\n(per reserve; write/read units as DynamoDB Local reports them with ReturnConsumedCapacity)");

    let (tasks, rounds, burst) = if benchmarking { (16, 10, 10) } else { (2, 1, 2) };
    floor::run(floor::Floor { tasks, rounds, burst }).await;
    let reserves = std::env::var("BENCH_FLEET_RESERVES").ok().and_then(|v| v.parse().ok());
    let fleet = if benchmarking {
        fleet::Fleet { organizations: 240, sandboxes: 16, lifetime: 25, reserves: reserves.unwrap_or(3_000) }
    } else {
        fleet::Fleet { organizations: 20, sandboxes: 2, lifetime: 5, reserves: reserves.unwrap_or(20) }
    };
    fleet::run(fleet).await;
}

async fn run(scenario: Scenario, callers: usize, ops: usize) -> Measured {
    let ctx = Arc::new(TestContext::new().await);
    let org_of = |caller: usize| if scenario.hot { "hot".to_owned() } else { format!("org-{caller}") };
    for caller in 0..callers {
        let set = "SET tier = :t, credit_balance_cents = :c, has_payment_method = :pm";
        let values = [
            (":t", AttributeValue::S(scenario.tier.into())),
            (":c", AttributeValue::N("100000000".into())),
            (":pm", AttributeValue::Bool(true)),
        ];
        ctx.update_account(&org_of(caller), set, &values).await;
        if scenario.hot {
            break;
        }
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let (app, meter) = caller_app(&ctx);
        let org = OrganizationId::parse(&org_of(caller)).unwrap();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(ops);
            let mut cost = Consumed::default();
            for i in 0..ops {
                let request = ReserveRequest {
                    run_id: format!("c{caller}-{i}"),
                    kind: RunKind::Standard,
                    estimated_cost_cents: None,
                };
                meter.take();
                let t = Instant::now();
                app.store.reserve(&org, &request, app.catalog(), app.now(), app.hold_ttl()).await.expect("reserve");
                latencies.push(t.elapsed());
                let spent = meter.take();
                cost.requests += spent.requests;
                cost.write_units += spent.write_units;
                cost.read_units += spent.read_units;
                cost.failed_conditions += spent.failed_conditions;
                app.store.release(&org, &request.run_id, app.now()).await.expect("release");
            }
            (latencies, cost)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut cost = Consumed::default();
    for task in tasks {
        let (l, c) = task.await.expect("caller finished");
        latencies.extend(l);
        cost.requests += c.requests;
        cost.write_units += c.write_units;
        cost.read_units += c.read_units;
        cost.failed_conditions += c.failed_conditions;
    }
    let elapsed = started.elapsed();
    let reserves = latencies.len();
    latencies.sort();
    let pct = |percent: usize| latencies[(latencies.len() * percent / 100).min(latencies.len() - 1)];
    let per_reserve = |total: f64| (total * 1000.0 / reserves as f64).round() as u64;
    Measured {
        scenario: scenario.name,
        callers,
        reserves,
        // Throughput counts reserve+release pairs, so it is a lower bound for reserves alone.
        per_second: (reserves as u128 * 1_000_000) / elapsed.as_micros().max(1),
        p50: pct(50),
        p99: pct(99),
        requests_milli: per_reserve(f64::from(cost.requests)),
        write_units_milli: per_reserve(cost.write_units),
        read_units_milli: per_reserve(cost.read_units),
        failed_conditions_milli: per_reserve(f64::from(cost.failed_conditions)),
    }
}

/// An App of its own for one caller (as one Lambda sandbox would have), over the shared table,
/// whose DynamoDB client measures what it sends.
fn caller_app(ctx: &TestContext) -> (App, CapacityMeter) {
    let meter = CapacityMeter::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&ctx.aws)
            .interceptor(CallCounter::default())
            .interceptor(meter.clone())
            .build(),
    );
    let app = App::with_dynamo((*ctx.app.config).clone(), &ctx.aws, client, ctx.app.clock.clone());
    (app, meter)
}
