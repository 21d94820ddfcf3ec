//! Our reserve against its floor: a bare conditional `UpdateItem` loop on a copy of the same
//! account item, from the same number of tasks. Each task works on its own organization in
//! rounds: a burst of reserves (timed, all tasks at once), then their releases (not timed,
//! behind a barrier so they never share a timed window). The bare loop has the same shape:
//! a burst of conditional sets of a hold into the item's map, then their removals.
//!
//! A third loop is the bare one plus what a warm reserve sends beside its write: an eventually
//! consistent `GetItem` of the run's record, in parallel. Against it, the ratio is the cost of
//! our code; against the bare write, the cost of that read as well.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing::store::Store;
use billing_tests::TestContext;
use tokio::sync::Barrier;

pub struct Floor {
    pub tasks: usize,
    /// Timed rounds, after one warm-up round.
    pub rounds: usize,
    /// Reserves per task per round (the team tier has 15 slots).
    pub burst: usize,
}

struct Timed {
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Timed {
    fn add(&mut self, other: Timed) {
        self.ops += other.ops;
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
    }

    fn per_second(&self) -> u128 {
        self.ops as u128 * 1_000_000 / self.elapsed.as_micros().max(1)
    }

    fn p50(&mut self) -> Duration {
        self.latencies.sort();
        self.latencies.get(self.latencies.len() / 2).copied().unwrap_or_default()
    }
}

fn org(task: usize) -> OrganizationId {
    OrganizationId::parse(&format!("floor-{task}")).expect("valid org id")
}

pub async fn run(floor: Floor) {
    let ctx = Arc::new(TestContext::new().await);
    for task in 0..floor.tasks {
        let set = "SET tier = :t, credit_balance_cents = :c, has_payment_method = :pm";
        let values = [
            (":t", AttributeValue::S("team".into())),
            (":c", AttributeValue::N("100000000".into())),
            (":pm", AttributeValue::Bool(true)),
        ];
        ctx.update_account(org(task).as_str(), set, &values).await;
    }
    // Each loop runs twice, in the order A B C C B A: DynamoDB Local slows as the table fills,
    // and a loop run only later would pay for the items the earlier ones left.
    let mut ours = reserves(&ctx, &floor, 0).await;
    let mut bare = bare_updates(&ctx, &floor, false, 0).await;
    let mut bare_read = bare_updates(&ctx, &floor, true, 0).await;
    bare_read.add(bare_updates(&ctx, &floor, true, 1).await);
    bare.add(bare_updates(&ctx, &floor, false, 1).await);
    ours.add(reserves(&ctx, &floor, 1).await);
    let bare_rate = bare.per_second();
    let ratio = |timed: &Timed| {
        let percent = timed.per_second() * 100 / bare_rate.max(1);
        format!("{}.{:02}", percent / 100, percent % 100)
    };
    println!(
        "\nReserve against a bare conditional UpdateItem on a copy of the account item: {} tasks, {} timed rounds of {} each.",
        floor.tasks, floor.rounds, floor.burst
    );
    println!("\n| loop | operations | per second | p50 | ratio |");
    println!("|---|---:|---:|---:|---:|");
    let bare_p50 = bare.p50();
    println!("| bare conditional UpdateItem | {} | {bare_rate} | {bare_p50:.1?} | 1.00 |", bare.ops);
    let (read_rate, read_p50, read_ratio) = (bare_read.per_second(), bare_read.p50(), ratio(&bare_read));
    println!(
        "| bare conditional UpdateItem + parallel GetItem of the run record | {} | {read_rate} | {read_p50:.1?} | {read_ratio} |",
        bare_read.ops
    );
    let (our_rate, our_p50, our_ratio) = (ours.per_second(), ours.p50(), ratio(&ours));
    println!("| reserve (warm sandbox) | {} | {our_rate} | {our_p50:.1?} | {our_ratio} |", ours.ops);
    let of_read = ours.per_second() * 100 / bare_read.per_second().max(1);
    println!(
        "\nReserve against the same requests sent bare (write + parallel read): {}.{:02}.",
        of_read / 100,
        of_read % 100
    );
}

/// One barrier for the tasks and the timer: (start of burst, end of burst, end of cleanup).
async fn timer(barrier: &Barrier, floor: &Floor) -> Duration {
    let mut elapsed = Duration::ZERO;
    for round in 0..=floor.rounds {
        barrier.wait().await;
        let started = Instant::now();
        barrier.wait().await;
        if round > 0 {
            elapsed += started.elapsed();
        }
        barrier.wait().await;
    }
    elapsed
}

/// `pass` keeps each run of the loop on run ids of its own (a released run stays settled).
async fn reserves(ctx: &Arc<TestContext>, floor: &Floor, pass: usize) -> Timed {
    let barrier = Arc::new(Barrier::new(floor.tasks + 1));
    let mut tasks = Vec::new();
    for task in 0..floor.tasks {
        let (ctx, barrier) = (ctx.clone(), barrier.clone());
        let (rounds, burst) = (floor.rounds, floor.burst);
        tasks.push(tokio::spawn(async move {
            // A sandbox of its own, warmed by the first round.
            let store = Store::new(aws_sdk_dynamodb::Client::new(&ctx.aws), ctx.app.store.table());
            let (catalog, now, ttl) = (ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl());
            let mut latencies = Vec::new();
            for round in 0..=rounds {
                barrier.wait().await;
                for k in 0..burst {
                    let request = ReserveRequest {
                        run_id: format!("p{pass}r{round}-{k}"),
                        kind: RunKind::Standard,
                        estimated_cost_cents: None,
                    };
                    let started = Instant::now();
                    store.reserve(&org(task), &request, catalog, now, ttl).await.expect("reserve");
                    if round > 0 {
                        latencies.push(started.elapsed());
                    }
                }
                barrier.wait().await;
                for k in 0..burst {
                    store.release(&org(task), &format!("p{pass}r{round}-{k}"), now).await.expect("release");
                }
                barrier.wait().await;
            }
            latencies
        }));
    }
    let elapsed = timer(&barrier, floor).await;
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("reserving task finished"));
    }
    Timed { ops: latencies.len(), elapsed, latencies }
}

/// The bare loop; `with_run_read` adds a reserve's parallel read of the run's record.
async fn bare_updates(ctx: &Arc<TestContext>, floor: &Floor, with_run_read: bool, pass: usize) -> Timed {
    let table = ctx.app.store.table().to_owned();
    for task in 0..floor.tasks {
        // The organization's account item as reserve left it, under a key of its own.
        let mut item = ctx
            .dynamo
            .get_item()
            .table_name(&table)
            .key("PK", AttributeValue::S(format!("ORG#floor-{task}")))
            .key("SK", AttributeValue::S("ACCOUNT".into()))
            .send()
            .await
            .expect("read the account item")
            .item
            .expect("the account item exists");
        item.insert("PK".into(), AttributeValue::S(format!("BARE#{task}")));
        item.insert("holds".into(), AttributeValue::M(Default::default()));
        ctx.dynamo.put_item().table_name(&table).set_item(Some(item)).send().await.expect("copy the account item");
    }
    let barrier = Arc::new(Barrier::new(floor.tasks + 1));
    let mut tasks = Vec::new();
    for task in 0..floor.tasks {
        let (ctx, barrier, table) = (ctx.clone(), barrier.clone(), table.clone());
        let (rounds, burst) = (floor.rounds, floor.burst);
        tasks.push(tokio::spawn(async move {
            let client = aws_sdk_dynamodb::Client::new(&ctx.aws);
            let key = |name: &str, value: String| (name.to_owned(), AttributeValue::S(value));
            let item_key = [key("PK", format!("BARE#{task}")), key("SK", "ACCOUNT".into())];
            let mut latencies = Vec::new();
            for round in 0..=rounds {
                barrier.wait().await;
                for k in 0..burst {
                    let hold = AttributeValue::M(
                        [
                            ("k".to_owned(), AttributeValue::S("standard".into())),
                            ("b".to_owned(), AttributeValue::S("subscription".into())),
                            ("p".to_owned(), AttributeValue::S("2026-11".into())),
                            ("c".to_owned(), AttributeValue::N("1795425000000".into())),
                            ("e".to_owned(), AttributeValue::N("1795425600".into())),
                        ]
                        .into(),
                    );
                    let started = Instant::now();
                    let run_read = async {
                        if with_run_read {
                            client
                                .get_item()
                                .table_name(&table)
                                .key("PK", AttributeValue::S(format!("BARE#{task}")))
                                .key("SK", AttributeValue::S(format!("RUN#p{pass}r{round}-{k}")))
                                .send()
                                .await
                                .expect("bare run-record read");
                        }
                    };
                    let write = client
                        .update_item()
                        .table_name(&table)
                        .set_key(Some(item_key.clone().into()))
                        .update_expression("SET #holds.#run = :hold, #updated = :now ADD #version :one")
                        .condition_expression(
                            "attribute_exists(PK) AND attribute_not_exists(#holds.#run) AND #status = :active AND size(#holds) < :limit",
                        )
                        .expression_attribute_names("#holds", "holds")
                        .expression_attribute_names("#run", format!("p{pass}r{round}-{k}"))
                        .expression_attribute_names("#updated", "updated_at")
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":hold", hold)
                        .expression_attribute_values(":now", AttributeValue::S("2026-11-23T09:30:00Z".into()))
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .expression_attribute_values(":active", AttributeValue::S("active".into()))
                        .expression_attribute_values(":limit", AttributeValue::N("15".into()))
                        .send();
                    let (written, ()) = tokio::join!(write, run_read);
                    written.expect("bare conditional update");
                    if round > 0 {
                        latencies.push(started.elapsed());
                    }
                }
                barrier.wait().await;
                for k in 0..burst {
                    client
                        .update_item()
                        .table_name(&table)
                        .set_key(Some(item_key.clone().into()))
                        .update_expression("REMOVE #holds.#run")
                        .condition_expression("attribute_exists(#holds.#run)")
                        .expression_attribute_names("#holds", "holds")
                        .expression_attribute_names("#run", format!("p{pass}r{round}-{k}"))
                        .send()
                        .await
                        .expect("bare removal");
                }
                barrier.wait().await;
            }
            latencies
        }));
    }
    let elapsed = timer(&barrier, floor).await;
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("updating task finished"));
    }
    Timed { ops: latencies.len(), elapsed, latencies }
}
