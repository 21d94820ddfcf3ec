//! Invoicing helpers: accounts with billable usage, the Stripe events about our invoices, and
//! a context that can run the monthly close.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::costs::store::Listing;
use billing::invoicing::rules::Invoice;
use billing::money::Cents;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing::usage::rules::UsageRecord;
use serde_json::{Value, json};

use crate::TestContext;
use crate::values::{n, org};

/// A starter account with a card on file, `free` free runs left, `used` of its 20
/// subscription runs used and `credits` cents of credits.
pub async fn paid_account(ctx: &TestContext, name: &str, free: i64, used: i64, credits: Cents) {
    ctx.update_account(
        name,
        "SET tier = :t, has_payment_method = :y, free_remaining = :f, period_used = :u, credit_balance_cents = :c",
        &[
            (":t", AttributeValue::S("starter".into())),
            (":y", AttributeValue::Bool(true)),
            (":f", n(free)),
            (":u", n(used)),
            (":c", n(credits)),
        ],
    )
    .await;
}

/// Reserves and commits one run (cost above the hold approved), returning its record.
pub async fn run(ctx: &TestContext, name: &str, run_id: &str, kind: RunKind, actual: Option<Cents>) -> UsageRecord {
    let request = ReserveRequest { run_id: run_id.into(), kind, estimated_cost_cents: None };
    let store = &ctx.app.store;
    store.reserve(&org(name), &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await.unwrap();
    store.commit(&org(name), run_id, actual, true, None, ctx.app.now()).await.unwrap().usage
}

/// Every usage record of the organization, oldest first.
pub async fn usage(ctx: &TestContext, name: &str) -> Vec<UsageRecord> {
    let listing = Listing { from: None, to: None, limit: 100_000, cursor: None };
    ctx.app.store.list_usage(&org(name), None, &listing, billing::costs::store::Order::OldestFirst).await.unwrap().items
}

/// An account with a Stripe customer, a card and three overage runs ($30 to invoice).
pub async fn owing(ctx: &TestContext, name: &str) {
    paid_account(ctx, name, 0, 20, 0).await;
    ctx.app.store.link_customer(&org(name), &format!("cus_{name}"), None).await.unwrap();
    for i in 0..3 {
        run(ctx, name, &format!("{name}-r{i}"), RunKind::Standard, None).await;
    }
}

/// A Stripe event about the Stripe invoice collecting our `invoice` ($30).
pub fn our_event(id: &str, kind: &str, ctx: &TestContext, name: &str, invoice: &Invoice, attempts: i64) -> Value {
    let paid = kind == "invoice.paid";
    json!({ "id": id, "object": "event", "type": kind, "created": ctx.app.now().timestamp(), "livemode": false,
            "data": { "object": {
                "id": invoice.stripe_invoice_id, "object": "invoice", "customer": format!("cus_{name}"),
                "attempt_count": attempts, "amount_due": 3_000, "amount_paid": if paid { 3_000 } else { 0 },
                "status": if paid { "paid" } else { "open" }, "billing_reason": "manual",
                "metadata": { "organization_id": name, "billing_invoice_id": invoice.id } } } })
}

/// A context with messaging whose App sends each account's monthly close to the close queue.
pub async fn close_context() -> TestContext {
    let probe = TestContext::with_messaging(&[]).await;
    let url = probe.resources.as_ref().unwrap().queue_urls["AccountCloseQueue"].clone();
    let mut ctx = probe;
    let mut config = (*ctx.app.config).clone();
    config.account_close_queue_url = Some(url);
    ctx.app.config = std::sync::Arc::new(config);
    ctx
}
