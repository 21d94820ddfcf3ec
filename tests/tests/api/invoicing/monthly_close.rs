//! The monthly close: the schedule lists the accounts with a month to close (sharded index,
//! no scan), one message per account, and each close invoices that month exactly once.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::invoicing::rules::InvoiceStatus;
use billing::quota::rules::RunKind;
use billing_tests::TestContext;
use billing_tests::invoicing::{close_context, paid_account, run, usage};
use chrono::TimeZone;

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

/// Runs the close queue through its consumer until it is empty, like the event source mapping.
async fn drain_closes(ctx: &TestContext) -> usize {
    let resources = ctx.resources.as_ref().unwrap();
    let (url, arn) = (&resources.queue_urls["AccountCloseQueue"], &resources.queue_arns["AccountCloseQueue"]);
    let mut total = 0;
    loop {
        let n = local_server::pump::pump_once(&ctx.app, url, arn, &sqs_account_close::handle).await.unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

#[tokio::test]
async fn the_monthly_close_invoices_each_accounts_month_once_and_leaves_the_next_month_open() {
    let ctx = close_context().await;
    paid_account(&ctx, "close-a", 1, 20, 0).await;
    paid_account(&ctx, "close-b", 5, 0, 0).await;
    ctx.account("close-c").await;
    for i in 0..3 {
        run(&ctx, "close-a", &format!("nov-{i}"), RunKind::Standard, None).await;
    }
    run(&ctx, "close-b", "nov-free", RunKind::Standard, None).await;
    // December: a late run of close-a belongs to December, not to November's invoice.
    ctx.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
    run(&ctx, "close-a", "dec-0", RunKind::Standard, None).await;

    let fanned =
        cron_monthly_close::handle(ctx.app.clone(), serde_json::json!({ "job": "monthly-close" })).await.unwrap();
    assert_eq!((fanned["month"].as_str(), fanned["accounts"].as_u64()), (Some("2026-11"), Some(3)), "{fanned}");
    assert_eq!(drain_closes(&ctx).await, 3);

    let a = ctx.app.store.list_invoices(&org("close-a"), None, &listing()).await.unwrap().items;
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].amount_due_cents, a[0].status), (2_000, InvoiceStatus::Open), "one free run, two overage runs");
    let december: Vec<_> = usage(&ctx, "close-a").await.into_iter().filter(|r| r.run_id == "dec-0").collect();
    assert!(!december[0].billed && december[0].invoice_id.is_none(), "December's run waits for December");
    let b = ctx.app.store.list_invoices(&org("close-b"), None, &listing()).await.unwrap().items;
    assert_eq!((b.len(), b[0].status, b[0].total_cents), (1, InvoiceStatus::Paid, 0), "a free month closes at $0");
    assert!(ctx.app.store.list_invoices(&org("close-c"), None, &listing()).await.unwrap().items.is_empty());
    for name in ["close-a", "close-b", "close-c"] {
        assert_eq!(ctx.app.store.close_marker(&org(name)).await.unwrap().unwrap().month, "2026-12", "{name}");
    }

    // The schedule retried, and a message redelivered: nothing more.
    let again = cron_monthly_close::handle(ctx.app.clone(), serde_json::json!({ "month": "2026-11" })).await.unwrap();
    assert_eq!(again["accounts"].as_u64(), Some(0));
    billing::invoicing::flow::close_month(&ctx.app, &org("close-a"), "2026-11").await.unwrap();
    assert_eq!(ctx.app.store.list_invoices(&org("close-a"), None, &listing()).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn closing_a_month_starts_the_next_months_free_quota_once_and_never_moves_a_period_back() {
    let ctx = close_context().await;
    let num = |n: i64| AttributeValue::N(n.to_string());
    // November's five free runs used up.
    ctx.update_account("used", "SET free_remaining = :z", &[(":z", num(0))]).await;
    // Already in January: a close of November must not take it back.
    let january = [(":p", AttributeValue::S("2027-01".into())), (":r", num(2))];
    ctx.update_account("ahead", "SET free_period = :p, free_remaining = :r", &january).await;
    // A run just after midnight started December lazily before the close got there.
    ctx.account("early").await;
    ctx.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 30, 0).unwrap());
    run(&ctx, "early", "dec-early", RunKind::Standard, None).await;
    ctx.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());

    let fanned = cron_monthly_close::handle(ctx.app.clone(), serde_json::json!({})).await.unwrap();
    assert_eq!(fanned["accounts"].as_u64(), Some(3), "{fanned}");
    assert_eq!(drain_closes(&ctx).await, 3);

    let free = |a: &billing::accounts::store::AccountItem| (a.free_period.clone(), a.free_remaining);
    assert_eq!(free(&ctx.stored_account("used").await), ("2026-12".into(), 5), "started eagerly");
    assert_eq!(free(&ctx.stored_account("ahead").await), ("2027-01".into(), 2), "never moved back");
    assert_eq!(free(&ctx.stored_account("early").await), ("2026-12".into(), 4), "the lazy start stands");
    let resets = ctx.items_with_prefix("OUTBOX#free-quota-reset-").await;
    assert_eq!(resets.len(), 1, "only the write that moved a period announces it: {resets:?}");
    let envelope: billing::events::Envelope = serde_json::from_str(resets[0]["envelope"].as_s().unwrap()).unwrap();
    assert_eq!((envelope.id.as_str(), envelope.organization_id.as_str()), ("free-quota-reset-used-2026-12", "used"));
    let expected = billing::events::DomainEvent::FreeQuotaReset { period: "2026-12".into(), free_workflows: 5 };
    assert_eq!(envelope.event, expected);

    // December's first run, then the close message delivered again: no second reset.
    run(&ctx, "used", "dec-0", RunKind::Standard, None).await;
    let url = &ctx.resources.as_ref().unwrap().queue_urls["AccountCloseQueue"];
    let body = serde_json::json!({ "organization_id": "used", "month": "2026-11" }).to_string();
    aws_sdk_sqs::Client::new(&ctx.aws).send_message().queue_url(url).message_body(body).send().await.unwrap();
    assert_eq!(drain_closes(&ctx).await, 1);
    assert_eq!(free(&ctx.stored_account("used").await), ("2026-12".into(), 4), "the run's quota stays taken");
    assert_eq!(ctx.items_with_prefix("OUTBOX#free-quota-reset-").await.len(), 1);
}

fn listing() -> billing::costs::store::Listing {
    billing::costs::store::Listing { from: None, to: None, limit: 100, cursor: None }
}

/// Applies one usage-queue message (`llm_call`, `storage_snapshot`) as the consumer would.
async fn usage_message(ctx: &TestContext, message: serde_json::Value) {
    let message: billing::costs::http::UsageMessage = serde_json::from_value(message).unwrap();
    billing::usage::flow::apply(&ctx.app, message).await.unwrap();
}

/// `cost_usd` is the JSON number text, e.g. `"2.5"`: exact, as the engine sends it.
fn llm_call(org: &str, event_id: &str, payer: &str, cost_usd: &str) -> serde_json::Value {
    llm_call_at(org, event_id, payer, cost_usd, "2026-11-23T09:00:00Z")
}

fn llm_call_at(org: &str, event_id: &str, payer: &str, cost_usd: &str, at: &str) -> serde_json::Value {
    let cost_usd: serde_json::Value = serde_json::from_str(cost_usd).unwrap();
    serde_json::json!({
        "type": "llm_call", "event_id": event_id, "organization_id": org, "run_id": "run-1",
        "provider": "anthropic", "model": "claude-sonnet-4", "prompt_tokens": 1000, "completion_tokens": 500,
        "prompt_cost_usd": cost_usd, "completion_cost_usd": 0, "payer": payer, "recorded_at": at
    })
}

async fn on_tier(ctx: &TestContext, name: &str, tier: &str) {
    ctx.account(name).await;
    ctx.update_account(name, "SET tier = :t", &[(":t", aws_sdk_dynamodb::types::AttributeValue::S(tier.into()))]).await;
}

#[tokio::test]
async fn a_closed_month_bills_storage_above_the_limit_and_llm_tokens_where_the_catalog_says_once() {
    let ctx = close_context().await;
    // Pro allows 50 GB: 62.5 GB is 13 started GB above it at $0.10.
    on_tier(&ctx, "disk-heavy", "pro").await;
    let snapshot = serde_json::json!({ "type": "storage_snapshot", "organization_id": "disk-heavy",
        "used_gb": 62.5, "recorded_at": "2026-11-23T09:00:00Z" });
    usage_message(&ctx, snapshot).await;
    // Enterprise pays for tokens on the platform's keys ($10 + 20 % margin), not for its own keys.
    on_tier(&ctx, "tokens", "enterprise").await;
    usage_message(&ctx, llm_call("tokens", "t-1", "platform", "10.0")).await;
    usage_message(&ctx, llm_call("tokens", "t-2", "customer_key", "99.0")).await;
    // Pro does not pay for tokens, and its storage is under the limit: nothing to bill.
    on_tier(&ctx, "light", "pro").await;
    usage_message(&ctx, llm_call("light", "l-1", "platform", "10.0")).await;
    for name in ["disk-heavy", "tokens", "light"] {
        ctx.app.store.schedule_close(&org(name), "2026-11").await.unwrap();
    }
    // Month lines come only with the close, never with an on-demand invoice.
    let early = billing::invoicing::flow::generate(&ctx.app, &org("disk-heavy")).await;
    assert!(matches!(early, Err(billing::invoicing::flow::InvoicingError::NothingToInvoice)), "{early:?}");

    ctx.clock.set(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
    cron_monthly_close::handle(ctx.app.clone(), serde_json::json!({ "job": "monthly-close" })).await.unwrap();
    assert_eq!(drain_closes(&ctx).await, 3);
    // Redelivered and repeated closes add nothing.
    for name in ["disk-heavy", "tokens", "light"] {
        billing::invoicing::flow::close_month(&ctx.app, &org(name), "2026-11").await.unwrap();
    }

    let storage = ctx.app.store.list_invoices(&org("disk-heavy"), None, &listing()).await.unwrap().items;
    assert_eq!(storage.len(), 1);
    let lines: Vec<_> =
        storage[0].line_items.iter().map(|l| (l.usage_type.as_str(), l.quantity, l.amount_cents)).collect();
    assert_eq!(lines, vec![("storage", 13, 130)]);
    assert_eq!((storage[0].total_cents, storage[0].amount_due_cents), (130, 130));

    let tokens = ctx.app.store.list_invoices(&org("tokens"), None, &listing()).await.unwrap().items;
    assert_eq!(tokens.len(), 1);
    let lines: Vec<_> = tokens[0].line_items.iter().map(|l| (l.usage_type.as_str(), l.amount_cents)).collect();
    assert_eq!(lines, vec![("llm_tokens", 1_200)], "platform keys with the margin; the customer's own keys are theirs");
    let period = (tokens[0].line_items[0].period_start, tokens[0].line_items[0].period_end);
    assert_eq!(
        period,
        (
            Some(chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap())
        )
    );
    let marker = ctx.app.store.month_charges_billed(&org("tokens"), "2026-11").await.unwrap().unwrap();
    assert_eq!((marker.invoice_id.as_str(), marker.llm_billed_micros), (tokens[0].id.as_str(), 12_000_000));

    // A November cost recorded after November closed (a redriven queue) is not lost: it goes
    // on December's invoice beside December's own, once however often December closes.
    usage_message(&ctx, llm_call("tokens", "t-late", "platform", "2.5")).await;
    usage_message(&ctx, llm_call_at("tokens", "t-dec", "platform", "1.0", "2026-12-05T00:00:00Z")).await;
    ctx.clock.set(chrono::Utc.with_ymd_and_hms(2027, 1, 1, 2, 0, 0).unwrap());
    for _ in 0..2 {
        billing::invoicing::flow::close_month(&ctx.app, &org("tokens"), "2026-12").await.unwrap();
    }
    let tokens = ctx.app.store.list_invoices(&org("tokens"), None, &listing()).await.unwrap().items;
    assert_eq!(tokens.len(), 2);
    let december: Vec<_> =
        tokens[0].line_items.iter().map(|l| (l.description.contains("after 2026-11 closed"), l.amount_cents)).collect();
    assert_eq!(december, vec![(true, 300), (false, 120)], "{:?}", tokens[0].line_items);
    let november = ctx.app.store.month_charges_billed(&org("tokens"), "2026-11").await.unwrap().unwrap();
    assert_eq!((november.invoice_id.as_str(), november.llm_billed_micros), (tokens[0].id.as_str(), 15_000_000));

    assert!(ctx.app.store.list_invoices(&org("light"), None, &listing()).await.unwrap().items.is_empty());
    assert!(ctx.app.store.month_charges_billed(&org("light"), "2026-11").await.unwrap().is_none());

    // Three closes of the same month at once (a redelivery racing the first): one invoice.
    on_tier(&ctx, "racing", "enterprise").await;
    usage_message(&ctx, llm_call("racing", "r-1", "platform", "2.5")).await;
    let racer = org("racing");
    let close = || billing::invoicing::flow::close_month(&ctx.app, &racer, "2026-11");
    let (a, b, c) = tokio::join!(close(), close(), close());
    let ids: std::collections::BTreeSet<String> =
        [a, b, c].into_iter().filter_map(|r| r.unwrap()).map(|invoice| invoice.id).collect();
    let racing = ctx.app.store.list_invoices(&org("racing"), None, &listing()).await.unwrap().items;
    assert_eq!(racing.len(), 1, "{racing:?}");
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), vec![racing[0].id.clone()]);
    assert_eq!(racing[0].amount_due_cents, 300);
}
