//! Operators closing unpaid invoices: a void at Stripe and here that hands the usage back to
//! unbilled (or writes it off in a credit note) and returns applied balance credits, once
//! however often or concurrently it is asked; and a write-off as uncollectible that stops
//! dunning.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;
use billing::invoicing::flow as invoicing;
use billing::invoicing::rules::{Invoice, InvoiceStatus};
use billing_tests::fake_stripe::FakeStripe;
use billing_tests::invoicing::{owing, usage};
use billing_tests::{Reply, TestContext, TestServer};
use futures::future::join_all;
use rust_decimal_macros::dec;
use serde_json::{Value, json};

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

async fn context(stripe: &FakeStripe) -> TestContext {
    TestContext::with_env(&[("STRIPE_SECRET_KEY", "sk_test_123"), ("STRIPE_API_BASE", &stripe.url)]).await
}

/// An issued invoice for three $10 overage runs, $10 of it paid from the balance.
async fn issued(ctx: &TestContext, name: &str) -> Invoice {
    owing(ctx, name).await;
    ctx.update_account(name, "SET credit_balance_cents = :c", &[(":c", AttributeValue::N("1000".into()))]).await;
    let invoice = invoicing::generate(&ctx.app, &org(name)).await.unwrap().invoice;
    assert_eq!((invoice.status, invoice.balance_applied_cents), (InvoiceStatus::Open, Some(1000)), "{invoice:?}");
    assert_eq!(ctx.stored_account(name).await.credit_balance_cents, 0);
    invoice
}

async fn act(server: &TestServer, invoice: &str, action: &str, body: Value) -> Reply {
    let path = format!("/api/billing/admin/invoices/{invoice}/{action}");
    server.request("POST", &path, Some(&server.tokens.admin()), Some(body)).await
}

#[tokio::test]
async fn a_void_hands_the_usage_back_returns_applied_credits_once_and_the_next_invoice_bills_it_again() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    let server = ctx.serve().await;
    let invoice = issued(&ctx, "voided").await;
    let stripe_id = invoice.stripe_invoice_id.clone().expect("collected through Stripe");

    // Without a reason, or not an operator: refused, nothing changes.
    let refused = act(&server, &invoice.id, "void", json!({})).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some("reason_required")), "{refused:?}");
    let path = format!("/api/billing/admin/invoices/{}/void", invoice.id);
    let owner =
        server.request("POST", &path, Some(&server.tokens.owner("voided")), Some(json!({ "reason": "r" }))).await;
    assert_eq!(owner.status, 403);
    assert!(!stripe.requests().iter().any(|(p, _)| p.ends_with("/void")));

    let voided = act(&server, &invoice.id, "void", json!({ "reason": "billed twice by mistake" })).await;
    assert_eq!(voided.status, 200, "{voided:?}");
    assert_eq!(
        (
            &voided.json["invoice"]["status"],
            &voided.json["action"],
            &voided.json["closed_by"],
            &voided.json["usage_returned"]
        ),
        (&json!("void"), &json!("void"), &json!("admin"), &json!(true))
    );
    assert_eq!((&voided.json["usage_records_returned"], &voided.json["credit_note_usd"]), (&json!(3), &Value::Null));
    assert_eq!(voided.json["refunded_credits_usd"], json!(10.0));
    let voids: Vec<_> = stripe.requests().into_iter().filter(|(p, _)| p.ends_with("/void")).collect();
    assert_eq!(voids, [(format!("/v1/invoices/{stripe_id}/void"), Some(format!("{}-void", invoice.id)))]);
    assert_eq!(ctx.stored_account("voided").await.credit_balance_cents, 1000, "the applied credits came back");
    let records = usage(&ctx, "voided").await;
    assert!(records.iter().all(|r| !r.billed && r.invoice_id.is_none() && r.unbilled_pk.is_some()), "{records:?}");

    // A retry finishes nothing twice.
    let again = act(&server, &invoice.id, "void", json!({ "reason": "billed twice by mistake" })).await;
    assert_eq!(
        (again.status, &again.json["refunded_credits_usd"], &again.json["usage_records_returned"]),
        (200, &json!(0.0), &json!(0))
    );
    assert_eq!(ctx.stored_account("voided").await.credit_balance_cents, 1000);
    assert_eq!(ctx.outbox_events("InvoiceVoided").await, 1);
    let trail = server.get("/api/billing/admin/audit?organization_id=voided", Some(&server.tokens.admin())).await;
    let voids: Vec<_> = trail.json.as_array().unwrap().iter().filter(|e| e["action"] == "invoice_voided").collect();
    assert_eq!(voids.len(), 1);
    assert_eq!(
        (&voids[0]["reason"], &voids[0]["before"]["status"]),
        (&json!("billed twice by mistake"), &json!("open"))
    );
    let refunds = ctx.items_with_prefix("LEDGER#").await;
    let refunds: Vec<_> = refunds
        .iter()
        .filter(|e| e.get("kind").and_then(|k| k.as_s().ok()).map(String::as_str) == Some("refund"))
        .collect();
    assert_eq!(refunds.len(), 1);

    // Closed is closed; the usage is billed by the next invoice.
    let closed = act(&server, &invoice.id, "uncollectible", json!({ "reason": "r" })).await;
    assert_eq!((closed.status, closed.json["code"].as_str()), (409, Some("invoice_already_closed")));
    let next = invoicing::generate(&ctx.app, &org("voided")).await.unwrap().invoice;
    assert_ne!(next.id, invoice.id);
    assert_eq!((next.total_cents, next.balance_applied_cents), (3000, Some(1000)));
    assert!(usage(&ctx, "voided").await.iter().all(|r| r.invoice_id.as_deref() == Some(next.id.as_str())));
}

#[tokio::test]
async fn a_void_that_bills_nothing_again_writes_every_owed_line_off_in_a_credit_note() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    let server = ctx.serve().await;
    let invoice = issued(&ctx, "forgiven").await;
    let voided = act(&server, &invoice.id, "void", json!({ "reason": "goodwill", "rebill_usage": false })).await;
    assert_eq!(voided.status, 200, "{voided:?}");
    assert_eq!((&voided.json["usage_returned"], &voided.json["credit_note_usd"]), (&json!(false), &json!(30.0)));
    let notes = ctx.items_with_prefix("CREDITNOTE#").await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].get("amount_cents").and_then(|v| v.as_n().ok()).map(String::as_str), Some("3000"));
    assert_eq!(notes[0].get("reason").and_then(|v| v.as_s().ok()).map(String::as_str), Some("goodwill"));
    // The operators' view of the account lists the credit note with its lines and who wrote it.
    let detail = server.get("/api/billing/admin/accounts/forgiven", Some(&server.tokens.admin())).await;
    assert_eq!(detail.status, 200, "{detail:?}");
    let listed = &detail.json["credit_notes"];
    assert_eq!(
        (&listed[0]["invoice_id"], &listed[0]["amount_usd"], &listed[0]["reason"], &listed[0]["created_by"]),
        (&json!(invoice.id), &json!(30.0), &json!("goodwill"), &json!("admin")),
        "{listed}"
    );
    assert!(!listed[0]["lines"].as_array().unwrap().is_empty(), "{listed}");
    assert!(
        usage(&ctx, "forgiven").await.iter().all(|r| r.billed && r.invoice_id.as_deref() == Some(invoice.id.as_str()))
    );
    // Nothing is left to bill: generation answers the last invoice again, and none is new.
    match invoicing::generate(&ctx.app, &org("forgiven")).await {
        Ok(again) => assert!(!again.created && again.invoice.id == invoice.id, "{again:?}"),
        Err(invoicing::InvoicingError::NothingToInvoice) => {}
        Err(other) => panic!("{other:?}"),
    }
    assert_eq!(ctx.items_with_prefix("INVOICE#").await.len(), 1);
}

#[tokio::test]
async fn concurrent_voids_apply_once() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    let server = ctx.serve().await;
    let invoice = issued(&ctx, "racing").await;
    let replies = join_all((0..6).map(|_| act(&server, &invoice.id, "void", json!({ "reason": "duplicate" })))).await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let refunded: rust_decimal::Decimal = replies
        .iter()
        .map(|r| r.json["refunded_credits_usd"].to_string().parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(refunded, dec!(10));
    assert_eq!(ctx.stored_account("racing").await.credit_balance_cents, 1000);
    assert_eq!(ctx.outbox_events("InvoiceVoided").await, 1);
    assert!(usage(&ctx, "racing").await.iter().all(|r| !r.billed));
}

#[tokio::test]
async fn an_uncollectible_invoice_leaves_dunning_stays_payable_and_refusals_change_nothing() {
    let stripe = FakeStripe::start().await;
    let ctx = context(&stripe).await;
    let server = ctx.serve().await;
    let invoice = issued(&ctx, "baddebt").await;
    let stripe_id = invoice.stripe_invoice_id.clone().unwrap();

    let missing = act(&server, "inv_nothing", "uncollectible", json!({ "reason": "r" })).await;
    assert_eq!((missing.status, missing.json["code"].as_str()), (404, Some("invoice_not_found")));
    let written = act(&server, &invoice.id, "uncollectible", json!({ "reason": "customer gone" })).await;
    assert_eq!(written.status, 200, "{written:?}");
    assert_eq!(
        (&written.json["invoice"]["status"], &written.json["action"]),
        (&json!("past_due"), &json!("uncollectible"))
    );
    assert!(stripe.requests().iter().any(|(p, _)| *p == format!("/v1/invoices/{stripe_id}/mark_uncollectible")));
    assert!(ctx.items_with_prefix(&format!("DUNNING#{}", invoice.id)).await.is_empty(), "off the dunning list");
    let again = act(&server, &invoice.id, "uncollectible", json!({ "reason": "customer gone" })).await;
    assert_eq!(again.status, 200);
    assert_eq!(ctx.outbox_events("InvoiceMarkedUncollectible").await, 1);
    let void = act(&server, &invoice.id, "void", json!({ "reason": "r" })).await;
    assert_eq!((void.status, void.json["code"].as_str()), (409, Some("invoice_already_closed")));
    // Still payable: a payment marks it paid.
    let paid = server
        .request(
            "POST",
            &format!("/api/billing/invoices/{}/pay", invoice.id),
            Some(&server.tokens.owner("baddebt")),
            None,
        )
        .await;
    assert_eq!((paid.status, &paid.json["status"]), (200, &json!("paid")), "{paid:?}");
    let closed = act(&server, &invoice.id, "void", json!({ "reason": "r" })).await;
    assert_eq!(closed.status, 409);
}
