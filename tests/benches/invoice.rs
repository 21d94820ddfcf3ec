//! Invoicing against DynamoDB Local, under `make bench`:
//!
//! 1. generating one invoice for an account with many unbilled usage records (5,000;
//!    BENCH_RECORDS): wall time, DynamoDB requests by operation, units consumed. The records
//!    are written directly (batch writes), as commits would leave them; only the generation
//!    is measured;
//! 2. the monthly close end to end for many accounts (1,000; BENCH_ACCOUNTS), each with two
//!    overage runs: the schedule's fan-out, then the close queue drained through
//!    `sqs-account-close`.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use billing::ids::OrganizationId;
use billing::quota::rules::{Bucket, RunKind};
use billing::usage::rules::UsageRecord;
use billing_tests::TestContext;
use futures::StreamExt;

#[tokio::main]
async fn main() {
    // Without `--bench` (`cargo test --all-targets`) a small run keeps the benchmark working.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if std::env::var_os("RUST_LOG").is_some() {
        billing::telemetry::init_tracing();
    }
    let default_records = if benchmarking { 5_000 } else { 30 };
    let records: usize = std::env::var("BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(default_records);
    let accounts: usize = std::env::var("BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benchmarking { 1_000 } else { 5 });
    generation(records).await;
    monthly_close(accounts).await;
}

async fn generation(records: usize) {
    let ctx = TestContext::new().await;
    let org = OrganizationId::parse("bench").expect("valid org");
    let account = ctx.account("bench").await;
    let now = ctx.app.now();
    let items: Vec<WriteRequest> = (0..records)
        .map(|i| {
            let at = now - chrono::Duration::milliseconds(i64::try_from(records - i).unwrap_or(0));
            let stamp = at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            let bucket = [Bucket::Free, Bucket::Credits, Bucket::Subscription, Bucket::Overage][i % 4];
            let charged = if matches!(bucket, Bucket::Credits | Bucket::Overage) { 1_000 } else { 0 };
            let record = UsageRecord {
                pk: format!("ORG#{org}"),
                sk: format!("USAGE#{stamp}#run-{i}"),
                unbilled_pk: Some(format!("UNBILLED#{org}")),
                unbilled_sk: Some(stamp),
                id: uuid::Uuid::now_v7().to_string(),
                organization_id: org.clone(),
                billing_account_id: account.id.clone(),
                run_id: format!("run-{i}"),
                usage_type: "workflow_run".into(),
                kind: if i % 3 == 0 { RunKind::Complex } else { RunKind::Standard },
                bucket,
                quantity: 1,
                charged_cents: charged,
                excess_cents: if i % 10 == 0 { 37 } else { 0 },
                capped_cents: 0,
                cap_reason: None,
                actual_cost_cents: None,
                billed: false,
                invoice_id: None,
                details: None,
                recorded_at: at,
                billed_at: None,
            };
            let item = serde_dynamo::to_item(&record).expect("record encodes");
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().expect("put"))
                .build()
        })
        .collect();
    for chunk in items.chunks(25) {
        let mut pending = chunk.to_vec();
        while !pending.is_empty() {
            let out = ctx
                .dynamo
                .batch_write_item()
                .request_items(ctx.app.store.table(), pending)
                .send()
                .await
                .expect("batch write");
            pending = out.unprocessed_items.unwrap_or_default().remove(ctx.app.store.table()).unwrap_or_default();
        }
    }
    ctx.calls.take();
    ctx.capacity.take();

    let started = std::time::Instant::now();
    let generated = billing::invoicing::flow::generate(&ctx.app, &org).await.expect("generate");
    let elapsed = started.elapsed();

    let consumed = ctx.capacity.take();
    let invoice = generated.invoice;
    let billed: usize = invoice
        .line_items
        .iter()
        .filter(|l| l.kind != billing::invoicing::rules::lines::LineKind::Excess)
        .map(|l| l.usage_record_ids.len())
        .sum();
    assert_eq!(billed, records.min(billing::invoicing::rules::MAX_RECORDS_PER_INVOICE), "every record on the invoice");
    let item = ctx
        .dynamo
        .get_item()
        .table_name(ctx.app.store.table())
        .key("PK", AttributeValue::S(invoice.pk.clone()))
        .key("SK", AttributeValue::S(invoice.sk.clone()))
        .send()
        .await
        .expect("read invoice")
        .item
        .expect("invoice stored");
    println!(
        "| usage records | wall time | requests | by operation | write units | read units | index units | invoice item |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {records} | {:.2} s | {} | {:?} | {:.0} | {:.0} | {:?} | {} KB |",
        elapsed.as_secs_f64(),
        consumed.requests,
        consumed.operations,
        consumed.write_units,
        consumed.read_units,
        consumed.index_units,
        billing_tests::capacity::item_size(&item) / 1024,
    );
}

async fn monthly_close(accounts: usize) {
    let mut ctx = TestContext::with_messaging(&[]).await;
    let resources = ctx.resources.clone().expect("messaging resources");
    let (url, arn) = (&resources.queue_urls["AccountCloseQueue"], &resources.queue_arns["AccountCloseQueue"]);
    let mut config = (*ctx.app.config).clone();
    config.account_close_queue_url = Some(url.clone());
    ctx.app.config = std::sync::Arc::new(config);
    let catalog = ctx.app.catalog().clone();
    // Accounts in November, each with two overage runs, set up eight at a time.
    let names: Vec<String> = (0..accounts).map(|i| format!("close{i:05}")).collect();
    futures::stream::iter(names.iter())
        .for_each_concurrent(8, |name| {
            let (ctx, catalog) = (&ctx, &catalog);
            async move {
                ctx.update_account(
                    name,
                    "SET tier = :t, has_payment_method = :y, free_remaining = :z, period_used = :u",
                    &[
                        (":t", AttributeValue::S("starter".into())),
                        (":y", AttributeValue::Bool(true)),
                        (":z", AttributeValue::N("0".into())),
                        (":u", AttributeValue::N("20".into())),
                    ],
                )
                .await;
                let org = OrganizationId::parse(name).expect("valid org");
                for run in ["a", "b"] {
                    let request = billing::quota::rules::ReserveRequest {
                        run_id: run.into(),
                        kind: RunKind::Standard,
                        estimated_cost_cents: None,
                    };
                    let now = ctx.app.now();
                    ctx.app.store.reserve(&org, &request, catalog, now, ctx.app.hold_ttl()).await.expect("reserve");
                    ctx.app.store.commit(&org, run, None, false, None, now).await.expect("commit");
                }
            }
        })
        .await;
    ctx.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 2, 0, 0).unwrap());
    ctx.calls.take();
    ctx.capacity.take();

    let started = std::time::Instant::now();
    let fanned = cron_monthly_close::handle(ctx.app.clone(), serde_json::json!({})).await.expect("fan out");
    let fan_out = started.elapsed();
    let mut closed = 0;
    // Five consumers, as Lambda's event source mapping would run a few concurrently.
    loop {
        let batch = futures::future::join_all(
            (0..5).map(|_| local_server::pump::pump_once(&ctx.app, url, arn, &sqs_account_close::handle)),
        )
        .await;
        let n: usize = batch.into_iter().map(|r| r.expect("pump")).sum();
        if n == 0 {
            break;
        }
        closed += n;
    }
    let elapsed = started.elapsed();
    let consumed = ctx.capacity.take();
    assert_eq!(fanned["accounts"].as_u64(), Some(accounts as u64));
    // SQS delivers at least once: a message may come twice, the invoice never does.
    assert!(closed >= accounts, "every account's message was handled");
    let listing = billing::costs::store::Listing { from: None, to: None, limit: 10, cursor: None };
    for name in &names {
        let org = OrganizationId::parse(name).expect("valid org");
        let invoices = ctx.app.store.list_invoices(&org, None, &listing).await.expect("list invoices").items;
        assert_eq!(invoices.len(), 1, "{name}: one invoice for November");
    }
    println!();
    println!(
        "| accounts closed | deliveries | fan-out | end to end | requests | per account | write units | read units |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {accounts} | {closed} | {:.2} s | {:.1} s | {} | {} | {:.0} | {:.0} |",
        fan_out.as_secs_f64(),
        elapsed.as_secs_f64(),
        consumed.requests,
        // A count ratio, kept exact like everything else here.
        (rust_decimal::Decimal::from(consumed.requests) / rust_decimal::Decimal::from(accounts.max(1))).round_dp(1),
        consumed.write_units,
        consumed.read_units,
    );
}
