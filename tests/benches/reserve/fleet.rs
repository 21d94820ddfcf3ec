//! Reserve across a fleet of Lambda sandboxes: each sandbox is a store of its own that
//! starts knowing nothing, serves a few dozen invocations for organizations picked from the
//! whole population (as Lambda routes requests to whichever sandbox is free), then is
//! recycled. The same traffic (same seed) is replayed once per [`FirstAttempt`] strategy,
//! each on a fresh table, and every reserve's requests, round trips and units are counted.

use std::collections::{BTreeMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing::quota::store::{FirstAttempt, QuotaError};
use billing::store::Store;
use billing_tests::TestContext;
use billing_tests::capacity::{CapacityMeter, Consumed};

/// The population: (tier, share of organizations in percent, requests per organization
/// relative to a free one). Free organizations are many but run little (five free runs a
/// month, then credits); paying ones run most of the workflows.
const POPULATION: [(&str, u32, u32); 4] = [("free", 55, 1), ("pro", 30, 6), ("team", 10, 12), ("enterprise", 5, 12)];

/// On-demand prices (us-east-1), in hundredths of a cent per million units: $0.625 per
/// million write request units, $0.125 per million read request units.
const WRITE_PRICE: u64 = 6_250;
const READ_PRICE: u64 = 1_250;

pub struct Fleet {
    pub organizations: usize,
    pub sandboxes: usize,
    /// Invocations a sandbox serves before it is recycled.
    pub lifetime: usize,
    pub reserves: usize,
}

#[derive(Default, Clone)]
struct Tally {
    reserves: u64,
    requests: u64,
    round_trips: u64,
    /// Thousandths, to add up fractional units exactly.
    write_milli: u64,
    read_milli: u64,
    failed_writes: u64,
    refused: u64,
}

impl Tally {
    fn add(&mut self, spent: &Consumed) {
        self.reserves += 1;
        self.requests += u64::from(spent.requests);
        self.round_trips += u64::from(spent.round_trips());
        self.write_milli += spent.write_units_milli();
        self.read_milli += spent.read_units_milli();
        self.failed_writes += u64::from(spent.failed_conditions);
    }

    fn merge(&mut self, other: &Tally) {
        self.reserves += other.reserves;
        self.requests += other.requests;
        self.round_trips += other.round_trips;
        self.write_milli += other.write_milli;
        self.read_milli += other.read_milli;
        self.failed_writes += other.failed_writes;
        self.refused += other.refused;
    }

    /// Write units billed: those reported, plus one for each failed condition (DynamoDB bills
    /// a failed conditional write as a write of the item, and the account item is under 1 KB).
    fn billed_write_milli(&self) -> u64 {
        self.write_milli + self.failed_writes * 1000
    }

    fn per_reserve(&self, total_milli: u64) -> String {
        let per = total_milli / self.reserves.max(1);
        format!("{}.{:02}", per / 1000, (per % 1000) / 10)
    }

    fn counted_per_reserve(&self, count: u64) -> String {
        self.per_reserve(count * 1000)
    }

    /// Dollars per million reserves at on-demand prices.
    fn dollars_per_million(&self) -> String {
        let hundredths_of_cent =
            (self.billed_write_milli() * WRITE_PRICE + self.read_milli * READ_PRICE) / 1000 / self.reserves.max(1);
        format!("${}.{:04}", hundredths_of_cent / 10_000, hundredths_of_cent % 10_000)
    }
}

/// Organization `i`'s tier, by the population's shares (spread, so small fleets mix too).
fn tier_of(i: usize) -> &'static str {
    let mut slot = (i * 37 % 100) as u32;
    for (tier, share, _) in POPULATION {
        if slot < share {
            return tier;
        }
        slot -= share;
    }
    POPULATION[0].0
}

fn weight_of(tier: &str) -> u32 {
    POPULATION.iter().find(|(t, _, _)| *t == tier).map_or(1, |(_, _, w)| *w)
}

/// The organization of each request, in order: the same for every strategy.
fn traffic(fleet: &Fleet) -> Vec<usize> {
    let weights: Vec<u32> = (0..fleet.organizations).map(|i| weight_of(tier_of(i))).collect();
    let total: u32 = weights.iter().sum();
    let mut rng = fastrand::Rng::with_seed(2027);
    (0..fleet.reserves)
        .map(|_| {
            let mut pick = rng.u32(0..total);
            weights
                .iter()
                .position(|w| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap_or(0)
        })
        .collect()
}

async fn seed(ctx: &TestContext, fleet: &Fleet) {
    for i in 0..fleet.organizations {
        let tier = tier_of(i);
        // Free organizations at every point of their month: some still on free runs, some
        // on the credits they bought.
        let free_left = (i % 6) as i64;
        let set = "SET tier = :t, credit_balance_cents = :c, has_payment_method = :pm, free_remaining = :f";
        let values = [
            (":t", AttributeValue::S(tier.into())),
            (":c", AttributeValue::N("100000000".into())),
            (":pm", AttributeValue::Bool(tier != "free")),
            (":f", AttributeValue::N(free_left.to_string())),
        ];
        ctx.update_account(&format!("fleet-{i}"), set, &values).await;
    }
}

/// Replays the traffic with `strategy`; totals for all reserves and for first reserves by tier.
async fn replay(fleet: &Fleet, strategy: FirstAttempt) -> (Tally, BTreeMap<&'static str, Tally>, Tally) {
    let ctx = TestContext::new().await;
    seed(&ctx, fleet).await;
    let requests = traffic(fleet);
    let mut workers = Vec::new();
    for worker in 0..fleet.sandboxes {
        let mine: Vec<usize> = requests.iter().copied().skip(worker).step_by(fleet.sandboxes).collect();
        let (aws, table) = (ctx.aws.clone(), ctx.app.store.table().to_owned());
        let (catalog, now, ttl) = (ctx.app.catalog().clone(), ctx.app.now(), ctx.app.hold_ttl());
        let lifetime = fleet.lifetime;
        workers.push(tokio::spawn(async move {
            let mut all = Tally::default();
            let mut first: BTreeMap<&'static str, Tally> = BTreeMap::new();
            let (mut store, mut meter, mut seen) = sandbox(&aws, &table, strategy);
            for (n, i) in mine.into_iter().enumerate() {
                if n > 0 && n % lifetime == 0 {
                    (store, meter, seen) = sandbox(&aws, &table, strategy);
                }
                let org = OrganizationId::parse(&format!("fleet-{i}")).expect("valid org id");
                let request = ReserveRequest {
                    run_id: format!("w{worker}-{n}"),
                    kind: RunKind::Standard,
                    estimated_cost_cents: None,
                };
                let is_first = seen.insert(i);
                meter.take();
                let reserved = store.reserve(&org, &request, &catalog, now, ttl).await;
                let spent = meter.take();
                all.add(&spent);
                if is_first {
                    first.entry(tier_of(i)).or_default().add(&spent);
                }
                match reserved {
                    Ok(_) => {
                        store.release(&org, &request.run_id, now).await.expect("release");
                    }
                    // Two sandboxes on one single-slot organization at once.
                    Err(QuotaError::Refused(_)) => all.refused += 1,
                    Err(other) => panic!("reserve for {org}: {other}"),
                }
            }
            (all, first)
        }));
    }
    let (mut all, mut first, mut first_all) = (Tally::default(), BTreeMap::new(), Tally::default());
    for worker in workers {
        let (a, f) = worker.await.expect("sandbox worker finished");
        all.merge(&a);
        for (tier, t) in f {
            first_all.merge(&t);
            first.entry(tier).or_insert_with(Tally::default).merge(&t);
        }
    }
    (all, first, first_all)
}

fn sandbox(aws: &aws_config::SdkConfig, table: &str, strategy: FirstAttempt) -> (Store, CapacityMeter, HashSet<usize>) {
    let meter = CapacityMeter::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(aws).interceptor(meter.clone()).build(),
    );
    (Store::new(client, table).with_first_attempt(strategy), meter, HashSet::new())
}

pub async fn run(fleet: Fleet) {
    println!(
        "\nFleet: {} organizations ({}), {} sandboxes at once, each recycled after {} invocations, {} reserves, \
         the same traffic for each first-attempt strategy.",
        fleet.organizations,
        POPULATION.iter().map(|(t, share, w)| format!("{share} % {t} ×{w} traffic")).collect::<Vec<_>>().join(", "),
        fleet.sandboxes,
        fleet.lifetime,
        fleet.reserves,
    );
    let strategies = [FirstAttempt::Guess, FirstAttempt::EventualRead, FirstAttempt::ConsistentRead];
    let mut by_tier = Vec::new();
    println!(
        "\n| first attempt | reserves | first in sandbox | requests | round trips | write units billed | of which failed writes | read units | per million reserves |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for strategy in strategies {
        let (all, first, first_all) = replay(&fleet, strategy).await;
        println!(
            "| {strategy:?} | {} | {} % | {} | {} | {} | {} | {} | {} |",
            all.reserves,
            first_all.reserves * 100 / all.reserves.max(1),
            all.counted_per_reserve(all.requests),
            all.counted_per_reserve(all.round_trips),
            all.per_reserve(all.billed_write_milli()),
            all.counted_per_reserve(all.failed_writes),
            all.per_reserve(all.read_milli),
            all.dollars_per_million(),
        );
        by_tier.push((strategy, first));
    }
    println!("\nFirst reserves of a sandbox only, by tier (per reserve):");
    println!(
        "\n| tier | first attempt | reserves | requests | round trips | write units billed | read units | per million |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (tier, _, _) in POPULATION {
        for (strategy, first) in &by_tier {
            let t = first.get(tier).cloned().unwrap_or_default();
            println!(
                "| {tier} | {strategy:?} | {} | {} | {} | {} | {} | {} |",
                t.reserves,
                t.counted_per_reserve(t.requests),
                t.counted_per_reserve(t.round_trips),
                t.per_reserve(t.billed_write_milli()),
                t.per_reserve(t.read_milli),
                t.dollars_per_million(),
            );
        }
    }
}
