//! Dunning: the overdue job (`cron-overdue-invoices`) marks unpaid usage invoices past due,
//! reminds at each offset once, suspends after fourteen days overdue, and paying lifts that
//! suspension unless another unpaid invoice (or another reason) still holds it. Its reads
//! follow what is due, and every step stays exactly-once under repeats, races and faults.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use billing::dunning::rules::ReminderOutcome;
use billing::events::{DomainEvent, Envelope};
use billing::ids::OrganizationId;
use billing::invoicing::flow as invoicing;
use billing::invoicing::rules::{Invoice, InvoiceStatus};
use billing::quota::rules::RunKind;
use billing_tests::TestContext;
use billing_tests::fake_stripe::FakeStripe;
use billing_tests::faults::{Fault, FaultInjector};
use billing_tests::invoicing::{our_event, owing, paid_account, run};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

async fn stripe_context(stripe: &FakeStripe) -> TestContext {
    TestContext::with_env(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", &stripe.url)]).await
}

/// A $30 usage invoice collected through (fake) Stripe, issued now: due in seven days.
async fn stripe_invoice(ctx: &TestContext, name: &str) -> Invoice {
    owing(ctx, name).await;
    invoicing::generate(&ctx.app, &org(name)).await.unwrap().invoice
}

/// A $10 usage invoice issued now without Stripe: due in seven days.
async fn plain_invoice(ctx: &TestContext, name: &str) -> Invoice {
    paid_account(ctx, name, 0, 20, 0).await;
    run(ctx, name, &format!("{name}-run"), RunKind::Standard, None).await;
    invoicing::generate(&ctx.app, &org(name)).await.unwrap().invoice
}

/// Runs the job as the scheduler would (through its handler), answering its summary.
async fn chase(ctx: &TestContext) -> Value {
    cron_overdue_invoices::handle(ctx.app.clone(), json!({ "job": "cron-overdue-invoices" })).await.unwrap()
}

fn count(summary: &Value, field: &str) -> u64 {
    summary[field].as_u64().unwrap_or_else(|| panic!("{field} in {summary}"))
}

/// Envelopes waiting in the outbox (written with their change), of one type.
async fn outbox(ctx: &TestContext, event_type: &str) -> Vec<Envelope> {
    ctx.items_with_prefix("OUTBOX#")
        .await
        .iter()
        .filter(|item| item.get("event_type").and_then(|v| v.as_s().ok()).map(String::as_str) == Some(event_type))
        .map(|item| serde_json::from_str(item["envelope"].as_s().unwrap()).unwrap())
        .collect()
}

fn reminder_offsets(events: &[Envelope]) -> Vec<i64> {
    let mut offsets: Vec<i64> = events
        .iter()
        .map(|e| match &e.event {
            DomainEvent::DunningReminder { offset_days, .. } => *offset_days,
            other => panic!("not a reminder: {other:?}"),
        })
        .collect();
    offsets.sort_unstable();
    offsets
}

async fn stored(ctx: &TestContext, id: &str) -> Invoice {
    ctx.app.store.invoice_by_id(id).await.unwrap().unwrap()
}

async fn suspension(ctx: &TestContext, name: &str) -> (String, Option<String>, Option<String>) {
    let s = ctx.app.store.suspension(&org(name)).await.unwrap().unwrap();
    (s.status, s.suspension_reason, s.suspended_invoice_id)
}

fn suspended_for(invoice: &Invoice) -> (String, Option<String>, Option<String>) {
    ("suspended".into(), Some("invoice_overdue".into()), Some(invoice.id.clone()))
}

fn active() -> (String, Option<String>, Option<String>) {
    ("active".into(), None, None)
}

/// `days` whole days and an hour after `start`: a daily run's time.
fn day(start: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    start + Duration::days(days) + Duration::hours(1)
}

#[tokio::test]
async fn an_unpaid_invoice_is_reminded_once_per_offset_marked_past_due_once_and_suspends_after_fourteen_days_overdue_however_the_job_repeats_or_races()
 {
    let stripe = FakeStripe::start().await;
    let ctx =
        TestContext::with_messaging(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", &stripe.url)]).await;
    let spy = ctx.event_spy().await;
    let late = stripe_invoice(&ctx, "late").await;
    let punctual = stripe_invoice(&ctx, "punctual").await;
    let start = ctx.app.now();
    assert_eq!(late.due_date, Some(start + Duration::days(7)), "seven-day terms");

    let mut sent_by_day = BTreeMap::new();
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    let mut suspended_on = None;
    for n in 1..=23 {
        ctx.clock.set(day(start, n));
        if n == 2 {
            // Paid before any reminder: never chased.
            let paid = our_event("evt_punctual_paid", "invoice.paid", &ctx, "punctual", &punctual, 1);
            billing::stripe_events::flow::process(&ctx.app, &paid.to_string()).await.unwrap();
        }
        // Two runs at once, then the schedule's retry.
        let (first, second) = tokio::join!(chase(&ctx), chase(&ctx));
        let again = chase(&ctx).await;
        for field in ["marked_past_due", "reminders_sent", "accounts_suspended", "failures"] {
            let racing = count(&first, field) + count(&second, field);
            *totals.entry(field).or_default() += racing + count(&again, field);
            assert_eq!(count(&again, field), 0, "day {n}: a repeated run does nothing more ({field}): {again}");
            if field == "reminders_sent" && racing > 0 {
                sent_by_day.insert(n, racing);
            }
        }
        if suspended_on.is_none() && suspension(&ctx, "late").await.0 == "suspended" {
            suspended_on = Some(n);
        }
    }

    // Due on day 7: reminders on days 4, 7, 10 and 14, one each.
    assert_eq!(sent_by_day, BTreeMap::from([(4, 1), (7, 1), (10, 1), (14, 1)]));
    let expected =
        BTreeMap::from([("accounts_suspended", 1), ("failures", 0), ("marked_past_due", 1), ("reminders_sent", 4)]);
    assert_eq!(totals, expected);
    assert_eq!(suspended_on, Some(21), "fourteen days after the due date");
    assert_eq!(suspension(&ctx, "late").await, suspended_for(&late));
    assert_eq!(stored(&ctx, &late.id).await.status, InvoiceStatus::PastDue);
    let item = ctx.app.store.dunning_item(&org("late"), &late.id).await.unwrap().unwrap();
    assert!(item.reminders.values().all(|m| m.outcome == ReminderOutcome::Sent) && item.reminders.len() == 4);
    assert!(item.past_due && item.suspension_settled);
    assert_eq!((item.index_pk, item.index_sk), (None, None), "nothing left to do: off the list");
    assert_eq!(stored(&ctx, &punctual.id).await.status, InvoiceStatus::Paid);
    assert!(ctx.app.store.dunning_item(&org("punctual"), &punctual.id).await.unwrap().is_none());
    assert_eq!(suspension(&ctx, "punctual").await, active());

    // Published through the outbox: each change once.
    let mut pump = ctx.outbox().await;
    ctx.drain_outbox(&mut pump, &ctx.app).await;
    let published = spy.events().await;
    let of = |name: &str, org: &str| -> Vec<Envelope> {
        published.iter().filter(|e| e.event.name() == name && e.organization_id.as_str() == org).cloned().collect()
    };
    let reminders = of("DunningReminder", "late");
    assert_eq!(reminder_offsets(&reminders), vec![-3, 0, 3, 7]);
    let DomainEvent::DunningReminder { amount_due_usd, due_date, hosted_invoice_url, invoice_id, .. } =
        &reminders[0].event
    else {
        unreachable!()
    };
    assert_eq!((invoice_id, *due_date), (&late.id, late.due_date.unwrap()));
    assert_eq!(*amount_due_usd, billing::money::dollars(3_000));
    assert_eq!(hosted_invoice_url, &late.hosted_invoice_url, "the reminder says where to pay");
    assert_eq!(of("InvoiceOverdue", "late").len(), 1);
    let suspended = of("AccountSuspended", "late");
    assert_eq!(suspended.len(), 1);
    let DomainEvent::AccountSuspended { suspension_reason, invoice_id, .. } = &suspended[0].event else {
        unreachable!()
    };
    assert_eq!(
        (suspension_reason.as_deref(), invoice_id.as_deref()),
        (Some("invoice_overdue"), Some(late.id.as_str()))
    );
    for name in ["DunningReminder", "InvoiceOverdue", "AccountSuspended"] {
        assert!(of(name, "punctual").is_empty(), "a paid invoice is not chased: {name}");
    }
}

#[tokio::test]
async fn paying_the_overdue_invoice_through_the_pay_route_reactivates_the_account_once() {
    let stripe = FakeStripe::start().await;
    let ctx = stripe_context(&stripe).await;
    let server = ctx.serve().await;
    let invoice = stripe_invoice(&ctx, "payroute").await;
    let start = ctx.app.now();
    // The job did not run for three weeks: every reminder but the latest is skipped.
    ctx.clock.set(day(start, 21));
    let summary = chase(&ctx).await;
    assert_eq!(
        (count(&summary, "marked_past_due"), count(&summary, "reminders_sent"), count(&summary, "accounts_suspended")),
        (1, 1, 1),
        "{summary}"
    );
    assert_eq!(reminder_offsets(&outbox(&ctx, "DunningReminder").await), vec![7]);
    let item = ctx.app.store.dunning_item(&org("payroute"), &invoice.id).await.unwrap().unwrap();
    let outcomes: BTreeMap<&str, ReminderOutcome> =
        item.reminders.iter().map(|(o, m)| (o.as_str(), m.outcome)).collect();
    let skipped = ReminderOutcome::Skipped;
    let expected = BTreeMap::from([("-3", skipped), ("0", skipped), ("3", skipped), ("7", ReminderOutcome::Sent)]);
    assert_eq!(outcomes, expected);
    assert_eq!(suspension(&ctx, "payroute").await, suspended_for(&invoice));

    let path = format!("/api/billing/invoices/{}/pay", invoice.id);
    let paid = server.request("POST", &path, Some(&server.tokens.owner("payroute")), None).await;

    assert_eq!((paid.status, paid.json["status"].as_str()), (200, Some("paid")), "{paid:?}");
    assert_eq!(suspension(&ctx, "payroute").await, active());
    let reactivated = outbox(&ctx, "AccountReactivated").await;
    assert_eq!(reactivated.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [format!("reactivated-{}", invoice.id)]);
    // Stripe's own paid event, and the job, afterwards: nothing more.
    let event = our_event("evt_payroute_paid", "invoice.paid", &ctx, "payroute", &invoice, 1);
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();
    assert_eq!(outbox(&ctx, "AccountReactivated").await.len(), 1);
    assert_eq!(count(&chase(&ctx).await, "examined"), 0, "a paid invoice left the dunning list");
}

#[tokio::test]
async fn stripes_paid_event_for_the_stripe_invoice_behind_an_overdue_invoice_reactivates_the_account() {
    let stripe = FakeStripe::start().await;
    let ctx = stripe_context(&stripe).await;
    let invoice = stripe_invoice(&ctx, "hook").await;
    ctx.clock.set(day(ctx.app.now(), 21));
    assert_eq!(count(&chase(&ctx).await, "accounts_suspended"), 1);

    let event = our_event("evt_hook_paid", "invoice.paid", &ctx, "hook", &invoice, 1);
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();

    assert_eq!(suspension(&ctx, "hook").await, active());
    assert_eq!(stored(&ctx, &invoice.id).await.status, InvoiceStatus::Paid);
    assert_eq!(outbox(&ctx, "AccountReactivated").await.len(), 1);
    assert!(ctx.app.store.dunning_item(&org("hook"), &invoice.id).await.unwrap().is_none());
}

#[tokio::test]
async fn with_two_overdue_invoices_paying_one_keeps_the_account_suspended_until_the_other_is_paid() {
    let stripe = FakeStripe::start().await;
    let ctx = stripe_context(&stripe).await;
    let server = ctx.serve().await;
    let start = ctx.app.now();
    let first = stripe_invoice(&ctx, "two").await;
    ctx.clock.set(start + Duration::days(1));
    for i in 0..3 {
        run(&ctx, "two", &format!("two-later-{i}"), RunKind::Standard, None).await;
    }
    let second = invoicing::generate(&ctx.app, &org("two")).await.unwrap().invoice;
    ctx.clock.set(day(start, 22));
    let summary = chase(&ctx).await;
    assert_eq!((count(&summary, "examined"), count(&summary, "accounts_suspended")), (2, 1), "{summary}");
    let holder = suspension(&ctx, "two").await.2.unwrap();
    let (paid_first, other) = if holder == first.id { (&first, &second) } else { (&second, &first) };

    // The invoice holding the suspension is paid: the other one, as overdue, holds it now.
    let path = format!("/api/billing/invoices/{}/pay", paid_first.id);
    let paid = server.request("POST", &path, Some(&server.tokens.owner("two")), None).await;
    assert_eq!(paid.status, 200, "{paid:?}");
    assert_eq!(suspension(&ctx, "two").await, suspended_for(other));
    assert!(outbox(&ctx, "AccountReactivated").await.is_empty());
    // The job finds the account suspended for the other invoice: that step is over.
    let summary = chase(&ctx).await;
    assert_eq!((count(&summary, "examined"), count(&summary, "accounts_suspended")), (1, 0), "{summary}");
    assert_eq!(count(&chase(&ctx).await, "examined"), 0);

    let event = our_event("evt_two_other_paid", "invoice.paid", &ctx, "two", other, 1);
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();

    assert_eq!(suspension(&ctx, "two").await, active());
    assert_eq!(outbox(&ctx, "AccountSuspended").await.len(), 1, "suspended once");
    assert_eq!(outbox(&ctx, "AccountReactivated").await.len(), 1, "reactivated once");
}

#[tokio::test]
async fn a_failed_payment_and_an_overdue_invoice_both_count_as_non_payment_and_each_holds_the_suspension() {
    let stripe = FakeStripe::start().await;
    let ctx = stripe_context(&stripe).await;
    let usage = stripe_invoice(&ctx, "mixed").await;
    // A subscription invoice fails three times: suspended for payment_failed.
    let subscription_invoice = |id: &str, kind: &str, created: i64, attempts: i64| {
        json!({ "id": id, "object": "event", "type": kind, "created": created, "livemode": false,
                "data": { "object": { "id": "in_mixed_sub", "object": "invoice", "customer": "cus_mixed",
                    "attempt_count": attempts, "amount_due": 7_900, "amount_paid": if kind == "invoice.paid" { 7_900 } else { 0 },
                    "billing_reason": "subscription_cycle" } } })
    };
    for attempt in 1..=3 {
        let failed = subscription_invoice(&format!("evt_mixed_{attempt}"), "invoice.payment_failed", attempt, attempt);
        billing::stripe_events::flow::process(&ctx.app, &failed.to_string()).await.unwrap();
    }
    let by_failure = ("suspended".to_owned(), Some("payment_failed".to_owned()), Some("in_mixed_sub".to_owned()));
    assert_eq!(suspension(&ctx, "mixed").await, by_failure);
    // Three weeks on, the usage invoice is overdue too; the account is already suspended.
    ctx.clock.set(day(ctx.app.now(), 21));
    let summary = chase(&ctx).await;
    assert_eq!((count(&summary, "marked_past_due"), count(&summary, "accounts_suspended")), (1, 0), "{summary}");
    assert_eq!(suspension(&ctx, "mixed").await, by_failure);

    // The subscription invoice is paid: the overdue usage invoice holds the suspension now.
    let paid = subscription_invoice("evt_mixed_paid", "invoice.paid", 10, 4);
    billing::stripe_events::flow::process(&ctx.app, &paid.to_string()).await.unwrap();
    assert_eq!(suspension(&ctx, "mixed").await, suspended_for(&usage));
    assert_eq!(count(&chase(&ctx).await, "accounts_suspended"), 0, "held already: nothing to do");

    let paid = our_event("evt_mixed_usage_paid", "invoice.paid", &ctx, "mixed", &usage, 1);
    billing::stripe_events::flow::process(&ctx.app, &paid.to_string()).await.unwrap();
    assert_eq!(suspension(&ctx, "mixed").await, active());
    assert_eq!(outbox(&ctx, "AccountReactivated").await.len(), 1);
}

#[tokio::test]
async fn a_suspension_for_another_reason_is_never_lifted_by_payment_and_the_overdue_one_applies_once_it_is_lifted() {
    let stripe = FakeStripe::start().await;
    let ctx = stripe_context(&stripe).await;
    let server = ctx.serve().await;
    let held = stripe_invoice(&ctx, "held").await;
    let lifted = stripe_invoice(&ctx, "lifted").await;
    let review = [(":s", AttributeValue::S("suspended".into())), (":r", AttributeValue::S("fraud_review".into()))];
    for name in ["held", "lifted"] {
        ctx.update_account(name, "SET #status = :s, suspension_reason = :r", &review).await;
    }
    ctx.clock.set(day(ctx.app.now(), 21));
    let summary = chase(&ctx).await;
    assert_eq!((count(&summary, "marked_past_due"), count(&summary, "accounts_suspended")), (2, 0), "{summary}");
    let by_operator = ("suspended".to_owned(), Some("fraud_review".to_owned()), None);
    assert_eq!(suspension(&ctx, "held").await, by_operator);

    // Paying does not lift the operator's suspension.
    let path = format!("/api/billing/invoices/{}/pay", held.id);
    let paid = server.request("POST", &path, Some(&server.tokens.owner("held")), None).await;
    assert_eq!(paid.status, 200, "{paid:?}");
    assert_eq!(suspension(&ctx, "held").await, by_operator);
    assert!(outbox(&ctx, "AccountReactivated").await.is_empty());

    // The operator lifts theirs while the other invoice is still unpaid: the next run suspends.
    ctx.update_account(
        "lifted",
        "SET #status = :a REMOVE suspension_reason",
        &[(":a", AttributeValue::S("active".into()))],
    )
    .await;
    ctx.clock.advance(Duration::days(1));
    assert_eq!(count(&chase(&ctx).await, "accounts_suspended"), 1);
    assert_eq!(suspension(&ctx, "lifted").await, suspended_for(&lifted));
    let path = format!("/api/billing/invoices/{}/pay", lifted.id);
    assert_eq!(server.request("POST", &path, Some(&server.tokens.owner("lifted")), None).await.status, 200);
    assert_eq!(suspension(&ctx, "lifted").await, active());
}

#[tokio::test]
async fn the_job_reads_only_what_is_due_so_accounts_with_nothing_due_cost_nothing() {
    let ctx = TestContext::new().await;
    for i in 0..30 {
        ctx.account(&format!("idle-{i}")).await;
    }
    for i in 0..3 {
        // A free run invoices at $0: paid at issue, never listed.
        paid_account(&ctx, &format!("free-{i}"), 1, 0, 0).await;
        run(&ctx, &format!("free-{i}"), "free-run", RunKind::Standard, None).await;
        assert_eq!(invoicing::generate(&ctx.app, &org(&format!("free-{i}"))).await.unwrap().invoice.total_cents, 0);
    }
    for i in 0..5 {
        plain_invoice(&ctx, &format!("owes-{i}")).await;
    }
    let start = ctx.app.now();
    let shards = billing::store::work_index::SHARDS;

    ctx.clock.set(start + Duration::hours(1));
    ctx.calls.take();
    assert_eq!(count(&chase(&ctx).await, "examined"), 0);
    assert_eq!(ctx.calls.take(), BTreeMap::from([("Query".to_owned(), shards)]), "one query per shard, nothing else");
    for i in 30..80 {
        ctx.account(&format!("idle-{i}")).await;
    }
    ctx.calls.take();
    assert_eq!(count(&chase(&ctx).await, "examined"), 0);
    assert_eq!(ctx.calls.take(), BTreeMap::from([("Query".to_owned(), shards)]), "fifty more accounts cost nothing");

    // Four days on, the five invoices' first reminder is due: a fixed cost per invoice due.
    ctx.clock.set(day(start, 4));
    ctx.capacity.take();
    let summary = chase(&ctx).await;
    assert_eq!((count(&summary, "examined"), count(&summary, "reminders_sent")), (5, 5), "{summary}");
    let per_invoice = BTreeMap::from([
        ("GetItem".to_owned(), 5),
        ("Query".to_owned(), shards),
        ("TransactWriteItems".to_owned(), 5),
        ("UpdateItem".to_owned(), 5),
    ]);
    assert_eq!(ctx.calls.take(), per_invoice, "read the item, record the reminder, move the entry");
    let consumed = ctx.capacity.take();
    assert!(consumed.read_units <= f64::from(shards) * 0.5 + 5.0 * 1.0, "small items only: {consumed:?}");
    // Moved to their next attention: the same moment again finds nothing due.
    assert_eq!(count(&chase(&ctx).await, "examined"), 0);
}

#[tokio::test]
async fn under_throttling_conflicts_and_lost_answers_every_dunning_step_still_happens_exactly_once() {
    let faults = FaultInjector::new(0, 20_261_201);
    let ctx = TestContext::with_faults(faults.clone()).await;
    let names: Vec<String> = (0..4).map(|i| format!("flaky-{i}")).collect();
    let mut invoices = Vec::new();
    for name in &names {
        invoices.push(plain_invoice(&ctx, name).await);
    }
    let start = ctx.app.now();
    faults.resume(250);
    let mut sent = 0;
    let mut failed_runs = 0;
    for n in 1..=22 {
        ctx.clock.set(day(start, n));
        let racing = (billing::dunning::flow::run(&ctx.app), billing::dunning::flow::run(&ctx.app));
        let (a, b) = tokio::join!(racing.0, racing.1);
        for result in [a, b] {
            match result {
                Ok(summary) => sent += summary.reminders_sent,
                // A run whose index queries kept failing: the scheduler retries it.
                Err(err) => {
                    assert!(err.is_unavailable(), "{err}");
                    failed_runs += 1;
                }
            }
        }
    }
    let (injected, by_operation) = (faults.injected(), faults.injected_by_operation());
    faults.stop();
    let last = billing::dunning::flow::run(&ctx.app).await.unwrap();
    sent += last.reminders_sent;

    assert!(
        injected.get(&Fault::Throttled).copied().unwrap_or(0) > 0
            && injected.get(&Fault::Conflict).copied().unwrap_or(0) > 0,
        "throttling and conflicts were injected: {injected:?}"
    );
    // The dunning writes themselves (transactions of each step, the entry's move) were hit.
    for operation in ["TransactWriteItems", "UpdateItem", "GetItem", "Query"] {
        assert!(by_operation.get(operation).copied().unwrap_or(0) > 0, "{operation} was faulted: {by_operation:?}");
    }
    let reminders = outbox(&ctx, "DunningReminder").await;
    let mut marks = 0;
    for (name, invoice) in names.iter().zip(&invoices) {
        let item = ctx.app.store.dunning_item(&org(name), &invoice.id).await.unwrap().unwrap();
        assert_eq!(item.reminders.len(), 4, "{name}: every offset handled: {:?}", item.reminders);
        let sent_marks: Vec<i64> = item
            .reminders
            .iter()
            .filter(|(_, m)| m.outcome == ReminderOutcome::Sent)
            .map(|(o, _)| o.parse().unwrap())
            .collect();
        let events: Vec<Envelope> = reminders.iter().filter(|e| e.organization_id.as_str() == name).cloned().collect();
        assert_eq!(reminder_offsets(&events), sent_marks, "{name}: an event for each reminder sent, no other");
        marks += sent_marks.len();
        assert!(item.past_due && item.suspension_settled && item.index_pk.is_none(), "{name}: {item:?}");
        assert_eq!(stored(&ctx, &invoice.id).await.status, InvoiceStatus::PastDue);
        assert_eq!(suspension(&ctx, name).await, suspended_for(invoice));
    }
    // A lost answer can hide a sent reminder from the summary, never add one.
    assert!(sent as usize <= marks && marks >= 12, "sent {sent}, marked {marks}, {failed_runs} failed runs");
    assert_eq!(outbox(&ctx, "InvoiceOverdue").await.len(), names.len());
    assert_eq!(outbox(&ctx, "AccountSuspended").await.len(), names.len());
}
