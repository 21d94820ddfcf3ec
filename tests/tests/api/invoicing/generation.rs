//! Invoicing: generation exactly once per unit of usage (concurrency, cutoffs, resumption),
//! totals and credits to the cent, numbering, and who may see and pay an invoice.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::costs::store::Listing;
use billing::ids::OrganizationId;
use billing::invoicing::flow::{self as invoicing, InvoicingError};
use billing::invoicing::rules::lines::LineKind;
use billing::invoicing::rules::{Invoice, InvoiceStatus, new_invoice_id};
use billing::invoicing::store::DraftPointer;
use billing::money::Cents;
use billing::quota::rules::{Bucket, ReserveRequest, RunKind};
use billing::usage::rules::LedgerKind;
use billing_tests::TestContext;
use billing_tests::invoicing::{paid_account, run, usage};
use futures::future::join_all;

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

async fn invoices(ctx: &TestContext, name: &str) -> Vec<Invoice> {
    let listing = Listing { from: None, to: None, limit: 1_000, cursor: None };
    ctx.app.store.list_invoices(&org(name), None, &listing).await.unwrap().items
}

/// Ids of the usage records an invoice bills (each run is on one run line; excess lines
/// name their runs again).
fn billed_ids(invoice: &Invoice) -> Vec<String> {
    invoice
        .line_items
        .iter()
        .filter(|l| l.kind != LineKind::Excess)
        .flat_map(|l| l.usage_record_ids.iter().cloned())
        .collect()
}

#[tokio::test]
async fn ten_concurrent_generates_and_a_scheduled_run_make_one_invoice_billing_every_record_once() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    paid_account(&ctx, "conc", 5, 18, 1_500).await;
    for i in 0..12 {
        run(&ctx, "conc", &format!("r{i}"), if i % 3 == 0 { RunKind::Complex } else { RunKind::Standard }, None).await;
    }
    let token = server.tokens.owner("conc");
    let path = "/api/billing/account/conc/invoices/generate";

    let requests = join_all((0..10).map(|_| server.request("POST", path, Some(&token), None)));
    let conc = org("conc");
    let (replies, scheduled) = tokio::join!(requests, invoicing::generate(&ctx.app, &conc));

    let scheduled = scheduled.unwrap();
    let id = scheduled.invoice.id.clone();
    let created = replies.iter().filter(|r| r.status == 201).count() + usize::from(scheduled.created);
    assert_eq!(created, 1, "exactly one caller creates the invoice: {replies:?}");
    for reply in &replies {
        assert!(matches!(reply.status, 200 | 201), "{reply:?}");
        assert_eq!(reply.json["id"], id.as_str(), "every caller answers with the same invoice");
    }
    let stored = invoices(&ctx, "conc").await;
    assert_eq!(stored.len(), 1);
    let records = usage(&ctx, "conc").await;
    assert_eq!(records.len(), 12);
    assert!(records.iter().all(|r| r.billed && r.invoice_id.as_deref() == Some(id.as_str()) && r.billed_at.is_some()));
    let mut on_invoice = billed_ids(&stored[0]);
    on_invoice.sort();
    let mut all: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    all.sort();
    assert_eq!(on_invoice, all, "every record on the invoice once");
    assert_eq!(stored[0].number.as_deref(), Some("INV-000001"));
    assert!(ctx.items_with_prefix("INVOICEDRAFT").await.len() == 1, "the pointer stays, marked done");

    // A request that started after that generation finished finds nothing new.
    ctx.clock.advance(chrono::Duration::seconds(1));
    let again = server.request("POST", path, Some(&token), None).await;
    assert_eq!((again.status, again.json["code"].as_str()), (409, Some("nothing_to_invoice")), "{again:?}");
}

#[tokio::test]
async fn usage_recorded_after_a_drafts_cutoff_lands_on_the_next_invoice_and_a_stopped_draft_is_resumed() {
    let ctx = TestContext::new().await;
    paid_account(&ctx, "cut", 0, 20, 0).await;
    for i in 0..5 {
        run(&ctx, "cut", &format!("before{i}"), RunKind::Standard, None).await;
    }
    // A generation that stopped right after starting its draft: pointer and draft, no lease.
    let account = ctx.stored_account("cut").await;
    let draft = Invoice::draft(&org("cut"), &account.id, new_invoice_id(), ctx.app.now());
    let mut pointer = DraftPointer::drafting(&draft, "gone", 0, 1);
    pointer.lease_owner = None;
    assert!(ctx.app.store.start_draft(None, &pointer, &draft).await.unwrap());
    ctx.clock.advance(chrono::Duration::seconds(1));
    for i in 0..3 {
        run(&ctx, "cut", &format!("after{i}"), RunKind::Standard, None).await;
    }

    let first = invoicing::generate(&ctx.app, &org("cut")).await.unwrap();
    let second = invoicing::generate(&ctx.app, &org("cut")).await.unwrap();

    assert_eq!((first.invoice.id.as_str(), first.created), (draft.id.as_str(), false), "the draft is completed");
    assert!(second.created);
    let records = usage(&ctx, "cut").await;
    let runs = |invoice: &Invoice| -> BTreeSet<String> {
        let ids: BTreeSet<String> = billed_ids(invoice).into_iter().collect();
        records.iter().filter(|r| ids.contains(&r.id)).map(|r| r.run_id.clone()).collect()
    };
    assert_eq!(runs(&first.invoice), (0..5).map(|i| format!("before{i}")).collect());
    assert_eq!(runs(&second.invoice), (0..3).map(|i| format!("after{i}")).collect());
    assert_eq!(
        (first.invoice.number.as_deref(), second.invoice.number.as_deref()),
        (Some("INV-000001"), Some("INV-000002"))
    );
    assert_eq!((first.invoice.amount_due_cents, second.invoice.amount_due_cents), (5_000, 3_000));
    assert_eq!((first.invoice.status, second.invoice.status), (InvoiceStatus::Open, InvoiceStatus::Open));
}

#[tokio::test]
async fn usage_arriving_while_invoices_are_generated_is_billed_exactly_once() {
    let ctx = TestContext::new().await;
    paid_account(&ctx, "race", 0, 20, 0).await;
    for i in 0..20 {
        run(&ctx, "race", &format!("a{i}"), RunKind::Standard, None).await;
    }
    // Runs keep committing (two at a time, the plan's concurrency) while the invoice is made.
    let late = join_all((0..2).map(|lane| {
        let ctx = &ctx;
        async move {
            for i in 0..10 {
                run(ctx, "race", &format!("b{lane}-{i}"), RunKind::Standard, None).await;
            }
        }
    }));
    let race = org("race");
    let (_, generated) = tokio::join!(late, invoicing::generate(&ctx.app, &race));
    generated.unwrap();
    // Whatever the first invoice did not take goes on later ones, until nothing is left.
    for _ in 0..5 {
        ctx.clock.advance(chrono::Duration::seconds(1));
        match invoicing::generate(&ctx.app, &org("race")).await {
            Ok(_) => {}
            Err(InvoicingError::NothingToInvoice) => break,
            Err(other) => panic!("{other}"),
        }
    }

    let records = usage(&ctx, "race").await;
    assert_eq!(records.len(), 40);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for invoice in invoices(&ctx, "race").await {
        for id in billed_ids(&invoice) {
            assert!(seen.insert(id.clone(), invoice.id.clone()).is_none(), "{id} is on two invoices");
        }
    }
    for record in &records {
        assert_eq!(seen.get(&record.id), record.invoice_id.as_ref(), "{} is on the invoice it names", record.run_id);
        assert!(record.billed);
    }
}

#[tokio::test]
async fn invoice_totals_equal_the_billable_usage_to_the_cent_for_random_usage_across_buckets() {
    let ctx = TestContext::new().await;
    paid_account(&ctx, "mix", 4, 12, 3_700).await;
    let mut rng = fastrand::Rng::with_seed(90);
    for i in 0..30 {
        let kind = if rng.bool() { RunKind::Complex } else { RunKind::Standard };
        let actual = match rng.u8(0..3) {
            0 => None,
            1 => Some(rng.i64(0..1_000)),
            _ => Some(rng.i64(1_000..2_600)),
        };
        run(&ctx, "mix", &format!("m{i}"), kind, actual).await;
    }
    let records = usage(&ctx, "mix").await;
    let buckets: BTreeSet<String> = records.iter().map(|r| format!("{:?}", r.bucket)).collect();
    assert_eq!(buckets.len(), 4, "free, credits, subscription and overage runs: {buckets:?}");
    let available_before = ctx.stored_account("mix").await.credit_balance_cents;

    let invoice = invoicing::generate(&ctx.app, &org("mix")).await.unwrap().invoice;

    let billable: Cents = records.iter().map(|r| r.charged_cents + r.excess_cents).sum();
    let credit_paid: Cents = records.iter().filter(|r| r.bucket == Bucket::Credits).map(|r| r.charged_cents).sum();
    let applied = invoice.balance_applied_cents.unwrap();
    assert_eq!(invoice.subtotal_cents, billable, "the invoice bills the usage to the cent");
    assert_eq!(invoice.line_items.iter().map(|l| l.amount_cents).sum::<Cents>(), billable);
    assert_eq!(invoice.total_cents, invoice.subtotal_cents - invoice.discount_cents + invoice.tax_cents);
    assert_eq!(invoice.credits_applied_cents, credit_paid + applied);
    assert_eq!(
        invoice.amount_due_cents,
        invoice.total_cents - invoice.credits_applied_cents - invoice.amount_paid_cents
    );
    assert!(applied <= available_before);
    assert_eq!(ctx.stored_account("mix").await.credit_balance_cents, available_before - applied);
}

#[tokio::test]
async fn credits_applied_never_exceed_the_available_balance_and_the_ledger_reconciles() {
    let ctx = TestContext::new().await;
    paid_account(&ctx, "cred", 0, 20, 0).await;
    for i in 0..3 {
        run(&ctx, "cred", &format!("o{i}"), RunKind::Standard, None).await;
    }
    // Credits arrive, and an open run holds part of them.
    ctx.update_account("cred", "SET credit_balance_cents = :c", &[(":c", n(2_500))]).await;
    let hold = ReserveRequest { run_id: "held".into(), kind: RunKind::Standard, estimated_cost_cents: None };
    // A store without the last account state this one remembers (credits were set behind its back).
    let fresh = billing::store::Store::new(ctx.app.store.client().clone(), ctx.app.store.table().to_owned());
    let reserved = fresh.reserve(&org("cred"), &hold, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await;
    assert_eq!(reserved.unwrap().hold.bucket, Bucket::Credits);
    let before = ctx.stored_account("cred").await;
    assert_eq!((before.credit_balance_cents, before.credit_held_cents), (1_500, 1_000));

    let invoice = invoicing::generate(&ctx.app, &org("cred")).await.unwrap().invoice;

    assert_eq!(invoice.total_cents, 3_000);
    assert_eq!(invoice.balance_applied_cents, Some(1_500), "only what is available, never what the hold reserves");
    assert_eq!((invoice.credits_applied_cents, invoice.amount_due_cents), (1_500, 1_500));
    let after = ctx.stored_account("cred").await;
    assert_eq!((after.credit_balance_cents, after.credit_held_cents), (0, 1_000));
    let ledger = ctx.app.store.recent_ledger(&org("cred"), 50).await.unwrap();
    let applications: Vec<_> = ledger.iter().filter(|e| e.kind == LedgerKind::InvoiceApplication).collect();
    assert_eq!(applications.len(), 1);
    assert_eq!(applications[0].amount_cents, -1_500);
    assert_eq!(applications[0].idempotency_key, format!("invoice-{}", invoice.id));
    let total_change: Cents = ledger.iter().map(|e| e.amount_cents).sum();
    let total = |a: &billing::accounts::store::AccountItem| a.credit_balance_cents + a.credit_held_cents;
    assert_eq!(total_change, total(&after) - total(&before), "the ledger explains every change of the balance");
    // The hold still settles normally from what it reserved.
    fresh.release(&org("cred"), "held", ctx.app.now()).await.unwrap();
    assert_eq!(ctx.stored_account("cred").await.credit_balance_cents, 1_000);
}

#[tokio::test]
async fn numbers_have_no_gaps_or_repeats_under_concurrent_finalization() {
    let ctx = TestContext::new().await;
    let account = ctx.account("numbers").await;
    let mut drafts = Vec::new();
    for _ in 0..12 {
        let draft = Invoice::draft(&org("numbers"), &account.id, new_invoice_id(), ctx.app.now());
        assert!(ctx.app.store.record_stripe_invoice(&draft).await.unwrap());
        drafts.push(draft);
    }

    let numbers_org = org("numbers");
    let results = join_all(drafts.iter().map(|d| invoicing::assign_number(&ctx.app, &numbers_org, d))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Finalizing one again changes nothing.
    invoicing::assign_number(&ctx.app, &org("numbers"), &drafts[0]).await.unwrap();

    let stored = invoices(&ctx, "numbers").await;
    let mut sequences: Vec<u64> = stored.iter().map(|i| i.sequence.unwrap()).collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=12).collect::<Vec<u64>>());
    let numbers: BTreeSet<_> = stored.iter().map(|i| i.number.clone().unwrap()).collect();
    assert_eq!(numbers.len(), 12);
    assert_eq!(ctx.app.store.last_invoice_sequence(&org("numbers")).await.unwrap(), 12);
    assert!(stored.iter().all(|i| i.due_date == Some(ctx.app.now() + chrono::Duration::days(7))));
}

#[tokio::test]
async fn another_organizations_invoice_is_indistinguishable_from_a_missing_one() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    paid_account(&ctx, "owner", 0, 20, 0).await;
    run(&ctx, "owner", "r1", RunKind::Standard, None).await;
    let (member, outsider) = (server.tokens.owner("owner"), server.tokens.member("intruder"));
    let created = server.request("POST", "/api/billing/account/owner/invoices/generate", Some(&member), None).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.json["id"].as_str().unwrap().to_owned();

    let missing = server.get("/api/billing/invoices/inv_doesnotexist", Some(&outsider)).await;
    let foreign = server.get(&format!("/api/billing/invoices/{id}"), Some(&outsider)).await;
    let foreign_pay = server.request("POST", &format!("/api/billing/invoices/{id}/pay"), Some(&outsider), None).await;
    assert_eq!(missing.status, 404);
    assert_eq!((foreign.status, &foreign.json), (404, &missing.json));
    assert_eq!((foreign_pay.status, &foreign_pay.json), (404, &missing.json));
    let listed = server.get("/api/billing/account/owner/invoices", Some(&outsider)).await;
    assert_eq!(listed.status, 403);

    let own = server.get(&format!("/api/billing/invoices/{id}"), Some(&member)).await;
    assert_eq!(
        (own.status, own.json["status"].as_str(), own.json["amount_due"].as_f64()),
        (200, Some("open"), Some(10.0))
    );
    let line = &own.json["line_items"][0];
    assert_eq!(line["usage_record_ids"].as_array().unwrap().len(), 1);
    assert_eq!(
        (line["quantity"].as_u64(), line["unit_price"].as_f64(), line["amount"].as_f64()),
        (Some(1), Some(10.0), Some(10.0))
    );
    // No Stripe invoice and no way to charge: 402 naming why; nothing changes.
    let pay = server.request("POST", &format!("/api/billing/invoices/{id}/pay"), Some(&member), None).await;
    assert_eq!((pay.status, pay.json["code"].as_str()), (402, Some("no_payment_method")), "{pay:?}");
    assert_eq!(ctx.app.store.invoice_by_id(&id).await.unwrap().unwrap().status, InvoiceStatus::Open);
}

#[tokio::test]
async fn the_invoice_list_pages_newest_first_and_filters_by_status() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    paid_account(&ctx, "lister", 3, 20, 0).await;
    for i in 0..3 {
        // The first three runs are free: a $0 invoice is paid at once.
        run(&ctx, "lister", &format!("r{i}"), RunKind::Standard, None).await;
        invoicing::generate(&ctx.app, &org("lister")).await.unwrap();
        ctx.clock.advance(chrono::Duration::seconds(1));
    }
    run(&ctx, "lister", "r3", RunKind::Standard, None).await;
    let open = invoicing::generate(&ctx.app, &org("lister")).await.unwrap().invoice;
    let token = server.tokens.member("lister");

    let first = server.get("/api/billing/account/lister/invoices?limit=3", Some(&token)).await;
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second =
        server.get(&format!("/api/billing/account/lister/invoices?limit=3&cursor={cursor}"), Some(&token)).await;
    let numbers: Vec<&str> = first
        .json
        .as_array()
        .unwrap()
        .iter()
        .chain(second.json.as_array().unwrap())
        .map(|i| i["invoice_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, vec!["INV-000004", "INV-000003", "INV-000002", "INV-000001"]);
    assert!(second.headers.get("x-next-cursor").is_none());

    let open_only = server.get("/api/billing/account/lister/invoices?status=open", Some(&token)).await;
    let ids: Vec<&str> = open_only.json.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![open.id.as_str()]);
    let paid = server.get("/api/billing/account/lister/invoices?status=paid", Some(&token)).await;
    assert_eq!(paid.json.as_array().unwrap().len(), 3);
    assert!(paid.json.as_array().unwrap().iter().all(|i| i["amount_due"] == 0.0 && i["total"] == 0.0));
    let bad = server.get("/api/billing/account/lister/invoices?status=late", Some(&token)).await;
    assert_eq!((bad.status, bad.json["code"].as_str()), (400, Some("invalid_query")));
    let other_filter =
        server.get(&format!("/api/billing/account/lister/invoices?status=open&cursor={cursor}"), Some(&token)).await;
    assert_eq!((other_filter.status, other_filter.json["code"].as_str()), (400, Some("invalid_cursor")));
}

#[tokio::test]
async fn the_same_idempotency_key_gets_the_same_answer() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    paid_account(&ctx, "idem", 0, 20, 0).await;
    let token = server.tokens.owner("idem");
    let path = "/api/billing/account/idem/invoices/generate";
    let post = |key: &'static str| {
        let (server, token) = (&server, token.clone());
        async move {
            let response = server
                .http
                .post(format!("{}{path}", server.url))
                .bearer_auth(token)
                .header("idempotency-key", key)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (empty_status, empty) = post("k0").await;
    assert_eq!((empty_status, empty["code"].as_str()), (409, Some("nothing_to_invoice")));
    run(&ctx, "idem", "r1", RunKind::Standard, None).await;
    assert_eq!(post("k0").await.0, 409, "a repeat of a 409 stays a 409");

    let (first_status, first) = post("k1").await;
    ctx.clock.advance(chrono::Duration::minutes(5));
    run(&ctx, "idem", "r2", RunKind::Standard, None).await;
    let (again_status, again) = post("k1").await;

    assert_eq!((first_status, again_status), (201, 201));
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["line_items"], again["line_items"], "the repeat does not pick up newer usage");
    let (new_status, newer) = post("k2").await;
    assert_eq!(new_status, 201);
    assert_ne!(newer["id"], first["id"]);
}
