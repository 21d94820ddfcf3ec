//! Invoicing: generation (exactly once per unit of usage, resumable) and collection through
//! Stripe, shared by the generate route, the pay route, schedules and the webhook processor.
//!
//! Generation runs as steps that each either happened or can be done again, so a caller that
//! finds a draft in progress (a concurrent request, the scheduled run, a retry after a crash or
//! a Stripe outage) completes the same draft instead of starting another:
//!
//! 1. **draft** — a conditional put of the pointer (`INVOICEDRAFT`, at the version read)
//!    with the draft invoice: one draft per organization at a time, usage recorded up to its
//!    cutoff. Whoever holds the pointer's lease does the next steps; the others wait for it.
//! 2. **claim** — each unbilled record up to the cutoff is put on the draft by a conditional
//!    update (still unbilled, or already ours), after its key was noted in a claim batch.
//! 3. **price** — lines and totals from the records the draft holds (read back consistently),
//!    stored once with `InvoiceGenerated`.
//! 4. **credits** — the available balance (never what holds reserve) is applied to what is
//!    owed, once, with its ledger entry and the account change in one transaction.
//! 5. **number** — the next per-organization number, counter and invoice in one transaction.
//! 6. **Stripe** — when something is due: invoice, items, finalization, each call keyed by our
//!    invoice id, so a repeat returns Stripe's first answer instead of a second invoice.
//! 7. **issue** — `open` (or `paid` when nothing is due), the pointer marked done and
//!    `InvoiceFinalized` in one transaction.

pub mod actions;

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use crate::App;
use crate::events::{DomainEvent, Envelope};
use crate::ids::OrganizationId;
use crate::invoicing::rules::lines::LineKind;
use crate::invoicing::rules::{
    Invoice, InvoiceSource, InvoiceStatus, LineItem, MAX_RECORDS_PER_INVOICE, MonthCharges, MonthFacts, Totals,
    build_lines, due_date, invoice_number, month_charges, new_invoice_id,
};
use crate::invoicing::store::{DraftPointer, PointerState};
use crate::invoicing::stripe::{Collection, is_declined};
use crate::messages::MessageError;
use crate::money::{Cents, dollars};
use crate::payments::PaymentError;
use crate::store::StoreError;
use crate::stripe_events::store::{InvoiceClosed, Payment};
use crate::usage::rules::{LedgerEntry, LedgerKind};

/// How long a generation's lease lasts: longer than any function runs, so a lease that ran
/// out belongs to a caller that is gone.
pub const LEASE_SECONDS: i64 = 180;
/// How long a caller waits for another one's generation before answering "busy".
const WAIT_FOR_OTHER: StdDuration = StdDuration::from_secs(25);
/// Usage records claimed at once.
const CLAIM_CONCURRENCY: usize = 32;
const CLAIM_PAGE: i32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum InvoicingError {
    #[error("There is no unbilled usage to invoice.")]
    NothingToInvoice,
    #[error("The organization has no billing account.")]
    NoAccount,
    #[error("Another request is generating this organization's invoice; retry shortly.")]
    Busy,
    #[error("The invoice cannot be paid: it is {0}.")]
    NotPayable(&'static str),
    #[error("No payment method is on file; pay through the hosted invoice page or add a card.")]
    NoPaymentMethod { hosted_invoice_url: Option<String> },
    #[error("The card was declined; pay through the hosted invoice page or use another card.")]
    Declined { hosted_invoice_url: Option<String> },
    #[error("The payment did not complete; finish it on the hosted invoice page.")]
    Incomplete { hosted_invoice_url: Option<String> },
    #[error("invoice {0} changed in a way its generation does not expect")]
    Inconsistent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

/// An invoice from `generate`, and whether this call created it.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub invoice: Invoice,
    pub created: bool,
}

/// Invoices the organization's unbilled usage recorded up to now, or completes the draft
/// already in progress. Every concurrent caller gets the same invoice.
pub async fn generate(app: &App, org: &OrganizationId) -> Result<Generated, InvoicingError> {
    generate_through(app, org, app.now(), None).await
}

/// Like [`generate`], for usage recorded up to `cutoff`; a close (`closing`) adds the month's
/// own lines that no earlier invoice billed.
async fn generate_through(
    app: &App,
    org: &OrganizationId,
    cutoff: DateTime<Utc>,
    closing: Option<&ClosedMonth>,
) -> Result<Generated, InvoicingError> {
    let now = app.now();
    let cutoff = cutoff.min(now);
    let owner = uuid::Uuid::new_v4().simple().to_string();
    let started = std::time::Instant::now();
    let mut round = 0;
    loop {
        let pointer = app.store.invoice_pointer(org).await?;
        match pointer {
            Some(p) if p.state == PointerState::Drafting => {
                let lease_free = p.lease_owner.is_none() || p.lease_until <= app.now().timestamp();
                if lease_free {
                    let mut mine = p.clone();
                    mine.lease_owner = Some(owner.clone());
                    mine.lease_until = app.now().timestamp() + LEASE_SECONDS;
                    mine.version = p.version + 1;
                    if app.store.replace_pointer(Some(p.version), &mine).await? {
                        let invoice = complete(app, mine).await?;
                        return Ok(Generated { invoice, created: false });
                    }
                } else if started.elapsed() > WAIT_FOR_OTHER {
                    return Err(InvoicingError::Busy);
                } else {
                    // Someone is working on it: wait for their answer.
                    tokio::time::sleep(StdDuration::from_millis(fastrand::u64(20..=80))).await;
                    if let Some(done) = finished(app, org, &p.invoice_id).await? {
                        return Ok(Generated { invoice: done, created: false });
                    }
                }
            }
            _ => {
                // Read afresh each round: a concurrent close may have billed them meanwhile.
                let charges = match closing {
                    Some(closing) => month_lines(app, org, closing).await?,
                    None => None,
                };
                if charges.is_none() && !app.store.has_unbilled(org, cutoff).await? {
                    // A caller that started before the last generation finished asked for the
                    // same usage: it gets that invoice.
                    if let Some(p) = &pointer
                        && p.completed_at.is_some_and(|done| now <= done)
                        && let Some(invoice) = app.store.invoice_at(&p.invoice_key()).await?
                    {
                        return Ok(Generated { invoice, created: false });
                    }
                    return Err(InvoicingError::NothingToInvoice);
                }
                let account = app.store.get_account(org).await?.ok_or(InvoicingError::NoAccount)?;
                // Whatever happens to the monthly close, an invoiced account is listed for one.
                app.store.schedule_close(org, &crate::period::month_key(cutoff)).await?;
                let mut draft = Invoice::draft(org, &account.id, new_invoice_id(), cutoff);
                (draft.created_at, draft.updated_at, draft.sk) = (now, now, Invoice::sort_key(now, &draft.id));
                draft.month_charges = charges;
                let lease_until = app.now().timestamp() + LEASE_SECONDS;
                let next =
                    DraftPointer::drafting(&draft, &owner, lease_until, pointer.as_ref().map_or(1, |p| p.version + 1));
                if app.store.start_draft(pointer.as_ref().map(|p| p.version), &next, &draft).await? {
                    tracing::info!(org = %org, invoice_id = %draft.id, "invoice draft started");
                    let invoice = complete(app, next).await?;
                    return Ok(Generated { invoice, created: true });
                }
            }
        }
        round += 1;
        if round > 10_000 {
            return Err(InvoicingError::Busy);
        }
    }
}

/// Closes `month` (`YYYY-MM`) for the organization: invoices its usage recorded up to the
/// month's end (`None` when there is none) and moves its close marker to the next month.
/// Safe to repeat: the generation is exactly-once and the marker moves only forward.
pub async fn close_month(app: &App, org: &OrganizationId, month: &str) -> Result<Option<Invoice>, InvoicingError> {
    let start = crate::period::parse_month_key(month)
        .ok_or_else(|| InvoicingError::Inconsistent(format!("month {month:?}")))?;
    let end = crate::period::next_month_start(start);
    let closing = ClosedMonth { month: month.to_owned(), start, end };
    let invoice = match generate_through(app, org, end - chrono::Duration::milliseconds(1), Some(&closing)).await {
        Ok(generated) => Some(generated.invoice),
        Err(InvoicingError::NothingToInvoice) => None,
        Err(err) => return Err(err),
    };
    let next = crate::period::month_key(end);
    let moved = app.store.advance_close(org, month, &next).await?;
    tracing::info!(org = %org, month, invoice_id = invoice.as_ref().map_or("-", |i| i.id.as_str()), moved, "month closed");
    Ok(invoice)
}

/// The month a close is for.
#[derive(Debug, Clone)]
struct ClosedMonth {
    month: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// The month lines of a close for the account's tier now: the closed month's storage (once)
/// and LLM cost, and what the month before gained since it was billed.
async fn month_lines(
    app: &App,
    org: &OrganizationId,
    closing: &ClosedMonth,
) -> Result<Option<MonthCharges>, InvoicingError> {
    let Some(account) = app.store.get_account(org).await? else { return Ok(None) };
    let catalog = app.catalog();
    let Some(tier) = catalog.tier(account.tier.as_str()) else {
        tracing::warn!(org = %org, tier = %account.tier, "tier not in the catalog: no month lines");
        return Ok(None);
    };
    let before_start = crate::period::month_start(closing.start - chrono::Duration::days(1));
    let before = ClosedMonth { month: crate::period::month_key(before_start), start: before_start, end: closing.start };
    let mut months = Vec::with_capacity(2);
    for (month, is_closing) in [(&before, false), (closing, true)] {
        let billed = app.store.month_charges_billed(org, &month.month).await?;
        // Late costs are looked for only in a month its close billed: one the account paid
        // tokens in (a month on another plan has nothing to catch up).
        if !is_closing && billed.is_none() {
            continue;
        }
        // Storage is measured once, by the month's first close.
        let storage = match (is_closing, &billed) {
            (true, None) => app.store.storage_snapshot(org).await?.map(|s| s.used_gb),
            _ => None,
        };
        months.push(MonthFacts {
            month: month.month.clone(),
            start: month.start,
            end: month.end,
            storage_used_gb: storage,
            storage_limit_gb: crate::accounts::rules::limits::in_force(tier, &account.limit_overrides, month.end)
                .storage_gb,
            llm_billable: app.store.month_billable(org, &month.month).await?,
            llm_billed: billed.as_ref().map(|b| b.llm_billed_micros),
            late: !is_closing || billed.is_some(),
        });
    }
    month_charges(tier, catalog, &months)
        .map_err(|e| InvoicingError::Inconsistent(format!("month {} lines: {e}", closing.month)))
}

/// The invoice, once its generation is done (the pointer moved past it).
async fn finished(app: &App, org: &OrganizationId, invoice_id: &str) -> Result<Option<Invoice>, InvoicingError> {
    let Some(p) = app.store.invoice_pointer(org).await? else { return Ok(None) };
    if p.invoice_id == invoice_id && p.state == PointerState::Done {
        return Ok(app.store.invoice_at(&p.invoice_key()).await?);
    }
    Ok(None)
}

/// Runs the remaining steps of the pointer's draft under our lease; on failure the lease is
/// given back so a retry can take over at once.
async fn complete(app: &App, pointer: DraftPointer) -> Result<Invoice, InvoicingError> {
    let result = steps(app, &pointer).await;
    if result.is_err() {
        let mut released = pointer.clone();
        released.lease_owner = None;
        released.lease_until = 0;
        released.version = pointer.version + 1;
        if let Err(err) = app.store.replace_pointer(Some(pointer.version), &released).await {
            tracing::warn!(error = %err, "could not release the invoice lease; it runs out by itself");
        }
    }
    result
}

async fn reread(app: &App, pointer: &DraftPointer) -> Result<Invoice, InvoicingError> {
    app.store
        .invoice_at(&pointer.invoice_key())
        .await?
        .ok_or_else(|| InvoicingError::Inconsistent(pointer.invoice_id.clone()))
}

async fn steps(app: &App, pointer: &DraftPointer) -> Result<Invoice, InvoicingError> {
    let org = OrganizationId::parse(pointer.pk.trim_start_matches("ORG#"))
        .map_err(|_| InvoicingError::Inconsistent(pointer.invoice_id.clone()))?;
    let mut invoice = reread(app, pointer).await?;
    if invoice.status != InvoiceStatus::Draft {
        return Ok(invoice);
    }
    if !invoice.priced {
        let started = std::time::Instant::now();
        claim(app, &org, &invoice, pointer.cutoff).await?;
        let claimed_ms = started.elapsed().as_millis();
        let records = app.store.claimed_usage(&org, &invoice.id).await?;
        tracing::info!(org = %org, invoice_id = %invoice.id, records = records.len(), claimed_ms, read_ms = started.elapsed().as_millis() - claimed_ms, "usage claimed");
        let month_lines = invoice.month_charges.as_ref().map(|c| c.lines.clone()).unwrap_or_default();
        if records.is_empty() && month_lines.is_empty() {
            app.store.drop_empty_draft(pointer).await?;
            return Err(InvoicingError::NothingToInvoice);
        }
        let mut lines = build_lines(&records);
        lines.extend(month_lines);
        invoice.price(lines);
        invoice.updated_at = app.now();
        let event = Envelope::new(
            format!("invoice-generated-{}", invoice.id),
            &org,
            app.now(),
            DomainEvent::InvoiceGenerated {
                invoice_id: invoice.id.clone(),
                total_usd: dollars(invoice.total_cents),
                line_count: u32::try_from(invoice.line_items.len()).unwrap_or(u32::MAX),
            },
        );
        if app.store.save_priced(&invoice, &event, app.now()).await? {
            crate::telemetry::metrics::invoice_generated();
        }
        invoice = reread(app, pointer).await?;
    }
    if invoice.balance_applied_cents.is_none() {
        apply_credits(app, &org, &invoice).await?;
        invoice = reread(app, pointer).await?;
    }
    if invoice.sequence.is_none() {
        assign_number(app, &org, &invoice).await?;
        invoice = reread(app, pointer).await?;
    }
    if invoice.amount_due_cents > 0 {
        collect(app, &org, &mut invoice).await?;
    }
    issue(app, &org, invoice, pointer).await
}

/// Step 2: puts every unbilled record recorded up to `cutoff` on the draft.
async fn claim(
    app: &App,
    org: &OrganizationId,
    invoice: &Invoice,
    cutoff: DateTime<Utc>,
) -> Result<(), InvoicingError> {
    let mut start = None;
    let mut taken = 0usize;
    loop {
        let (mut keys, next) = app.store.unbilled_page(org, cutoff, start, CLAIM_PAGE).await?;
        keys.truncate(MAX_RECORDS_PER_INVOICE - taken);
        if !keys.is_empty() {
            app.store.put_claim_batch(org, &invoice.id, &keys).await?;
            let now = app.now();
            let claimed: Vec<bool> = futures::stream::iter(keys)
                .map(|sk| {
                    let (store, org, id) = (app.store.clone(), org.clone(), invoice.id.clone());
                    async move { store.claim_usage(&org, &sk, &id, now).await }
                })
                .buffer_unordered(CLAIM_CONCURRENCY)
                .try_collect()
                .await?;
            taken += claimed.into_iter().filter(|c| *c).count();
        }
        if next.is_none() || taken >= MAX_RECORDS_PER_INVOICE {
            return Ok(());
        }
        start = next;
    }
}

/// Step 4: applies available credits (never what holds reserve) to what is owed.
async fn apply_credits(app: &App, org: &OrganizationId, invoice: &Invoice) -> Result<(), InvoicingError> {
    let owed = Totals::owed_before_balance(
        &invoice.line_items,
        invoice.discount_cents,
        invoice.tax_cents,
        invoice.amount_paid_cents,
    );
    for attempt in 0..crate::store::TRANSIENT_ATTEMPTS {
        let account = app.store.get_account(org).await?.ok_or(InvoicingError::NoAccount)?;
        let amount = owed.min(account.credit_balance_cents.max(0));
        let entry = LedgerEntry::new(
            org,
            LedgerKind::InvoiceApplication,
            -amount,
            format!("invoice-{}", invoice.id),
            format!("credits applied to invoice {}", invoice.id),
            "invoicing",
            app.now(),
        );
        if app.store.apply_balance(invoice, amount, Some(&entry), app.now()).await? {
            tracing::info!(org = %org, invoice_id = %invoice.id, applied_cents = amount, "credits applied to invoice");
            return Ok(());
        }
        let current = app.store.invoice_at(&crate::invoicing::store::invoice_key(invoice)).await?;
        if current.is_some_and(|i| i.balance_applied_cents.is_some()) {
            return Ok(());
        }
        // The balance moved under us (a run took credits): look again.
        crate::store::jittered_pause(attempt).await;
    }
    Err(InvoicingError::Busy)
}

/// Step 5: the next number of the organization, without gaps or repeats.
pub async fn assign_number(app: &App, org: &OrganizationId, invoice: &Invoice) -> Result<(), InvoicingError> {
    for attempt in 0..20 {
        let last = app.store.last_invoice_sequence(org).await?;
        let now = app.now();
        let due = due_date(now, app.config.invoice_payment_terms_days);
        if app.store.assign_number(invoice, last, &invoice_number(last + 1), due, now).await? {
            return Ok(());
        }
        let current = app.store.invoice_at(&crate::invoicing::store::invoice_key(invoice)).await?;
        if current.is_some_and(|i| i.sequence.is_some()) {
            return Ok(());
        }
        crate::store::jittered_pause(attempt.min(5)).await;
    }
    Err(InvoicingError::Busy)
}

/// Step 6: the Stripe invoice collecting what is due, when Stripe is configured.
async fn collect(app: &App, org: &OrganizationId, invoice: &mut Invoice) -> Result<(), InvoicingError> {
    let Some(stripe) = app.stripe() else {
        tracing::warn!(org = %org, invoice_id = %invoice.id, "Stripe is not configured; the invoice is issued without collection");
        return Ok(());
    };
    let account = app.store.get_account(org).await?.ok_or(InvoicingError::NoAccount)?;
    let customer = match account.stripe_customer_id.clone() {
        Some(customer) => customer,
        None => {
            let customer = stripe
                .create_customer(org, account.billing_email.as_deref(), &format!("customer-{}", account.id))
                .await?;
            app.store.link_customer(org, &customer, None).await?;
            customer
        }
    };
    let collection = if account.auto_billing_enabled && account.has_payment_method {
        Collection::Automatic
    } else {
        Collection::SendInvoice { days_until_due: u32::try_from(app.config.invoice_payment_terms_days).unwrap_or(7) }
    };
    let metadata = HashMap::from([
        ("organization_id".to_owned(), org.to_string()),
        ("billing_invoice_id".to_owned(), invoice.id.clone()),
    ]);
    let description = format!("Usage invoice {}", invoice.number.clone().unwrap_or_else(|| invoice.id.clone()));
    let stripe_id = match invoice.stripe_invoice_id.clone() {
        Some(id) => id,
        None => {
            let created =
                stripe.create_invoice(&customer, &invoice.id, collection, &description, metadata.clone()).await?;
            invoice.stripe_invoice_id = Some(created.id.clone());
            invoice.collection_method = Some(
                match collection {
                    Collection::Automatic => "charge_automatically",
                    Collection::SendInvoice { .. } => "send_invoice",
                }
                .to_owned(),
            );
            app.store.set_stripe_invoice(invoice).await?;
            created.id
        }
    };
    for (n, line) in invoice.line_items.iter().enumerate().filter(|(_, l)| l.is_owed() && l.amount_cents > 0) {
        stripe
            .add_invoice_item(
                &customer,
                &stripe_id,
                &invoice.id,
                n,
                line.amount_cents,
                &line_text(line),
                metadata.clone(),
            )
            .await?;
    }
    // Credits applied beyond the credit-paid lines lower what Stripe collects.
    let applied_balance = invoice.balance_applied_cents.unwrap_or(0);
    if applied_balance > 0 {
        let n = invoice.line_items.len();
        stripe
            .add_invoice_item(
                &customer,
                &stripe_id,
                &invoice.id,
                n,
                -applied_balance,
                "Prepaid credits applied",
                metadata,
            )
            .await?;
    }
    let finalized = stripe.finalize_invoice(&stripe_id, &invoice.id).await?;
    invoice.hosted_invoice_url = finalized.hosted_invoice_url;
    invoice.invoice_pdf = finalized.invoice_pdf;
    app.store.set_stripe_invoice(invoice).await?;
    Ok(())
}

fn line_text(line: &LineItem) -> String {
    format!("{} × {} (${} each)", line.description, line.quantity, line.unit_price)
}

/// Step 7: the invoice is issued and the generation done, with its events.
async fn issue(
    app: &App,
    org: &OrganizationId,
    mut invoice: Invoice,
    pointer: &DraftPointer,
) -> Result<Invoice, InvoicingError> {
    let now = app.now();
    let mut events = Vec::new();
    invoice.updated_at = now;
    if invoice.amount_due_cents == 0 {
        invoice.status = InvoiceStatus::Paid;
        invoice.paid_at = Some(now);
        events.push(Envelope::new(
            format!("invoice-paid-{}", invoice.id),
            org,
            now,
            DomainEvent::InvoicePaid {
                invoice_id: invoice.id.clone(),
                amount_paid_usd: dollars(invoice.amount_paid_cents),
            },
        ));
    } else {
        invoice.status = InvoiceStatus::Open;
    }
    events.insert(
        0,
        Envelope::new(
            format!("invoice-finalized-{}", invoice.id),
            org,
            now,
            DomainEvent::InvoiceFinalized {
                invoice_id: invoice.id.clone(),
                invoice_number: invoice.number.clone().unwrap_or_default(),
                amount_due_usd: dollars(invoice.amount_due_cents),
                due_date: invoice.due_date.unwrap_or(now),
                stripe_invoice_id: invoice.stripe_invoice_id.clone(),
            },
        ),
    );
    // An invoice left to pay joins the dunning list as it is issued.
    let dunning = crate::dunning::store::DunningItem::for_invoice(&invoice, &app.config.dunning, now);
    if app.store.issue_invoice(&invoice, pointer, &events, dunning.as_ref(), now).await? {
        if invoice.status == InvoiceStatus::Paid {
            crate::telemetry::metrics::invoice_paid();
        }
        tracing::info!(org = %org, invoice_id = %invoice.id, number = invoice.number.as_deref().unwrap_or("-"), due_cents = invoice.amount_due_cents, "invoice issued");
        return Ok(invoice);
    }
    // Someone finished it first (we lost the lease): theirs is the answer.
    match finished(app, org, &invoice.id).await? {
        Some(done) => Ok(done),
        None => Err(InvoicingError::Inconsistent(invoice.id)),
    }
}

/// Charges an issued invoice through Stripe with the customer's default payment method.
pub async fn pay(app: &App, invoice: &Invoice, idempotency_key: &str) -> Result<Invoice, InvoicingError> {
    if !invoice.status.is_payable() {
        return Err(InvoicingError::NotPayable(invoice.status.as_str()));
    }
    let hosted = invoice.hosted_invoice_url.clone();
    let account = app.store.get_account(&invoice.organization_id).await?.ok_or(InvoicingError::NoAccount)?;
    let (Some(stripe_id), true) = (invoice.stripe_invoice_id.as_deref(), account.has_payment_method) else {
        return Err(InvoicingError::NoPaymentMethod { hosted_invoice_url: hosted });
    };
    let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
    let answer = match stripe.pay_invoice(stripe_id, idempotency_key).await {
        Ok(answer) => answer,
        Err(err) if is_declined(&err) => return Err(InvoicingError::Declined { hosted_invoice_url: hosted }),
        Err(err) => return Err(err.into()),
    };
    if !answer.is_paid() {
        return Err(InvoicingError::Incomplete { hosted_invoice_url: answer.hosted_invoice_url.or(hosted) });
    }
    let paid = if answer.amount_paid > 0 { answer.amount_paid } else { invoice.amount_due_cents };
    mark_paid(app, invoice, stripe_id, paid, app.now()).await?;
    reactivate_after_paying(app, invoice, stripe_id).await;
    let key = crate::invoicing::store::invoice_key(invoice);
    Ok(app.store.invoice_at(&key).await?.unwrap_or_else(|| invoice.clone()))
}

/// A paid invoice no longer holds a non-payment suspension: its Stripe invoice's failed
/// state is closed, and the account is reactivated unless another unpaid invoice holds it.
/// The payment stands whatever happens here; Stripe's `invoice.paid` event, processed
/// later, runs the same steps again.
async fn reactivate_after_paying(app: &App, invoice: &Invoice, stripe_id: &str) {
    let org = &invoice.organization_id;
    let now = app.now();
    let closed = app.store.record_invoice_closed(org, stripe_id, InvoiceClosed::Paid, now.timestamp(), now).await;
    let lifted = match closed {
        Ok(_) => crate::dunning::flow::suspension::lift_after_settlement(app, org, &invoice.id, "paid").await,
        Err(err) => Err(err),
    };
    match lifted {
        Ok(outcome) => {
            tracing::info!(org = %org, invoice_id = %invoice.id, ?outcome, "suspension checked after payment")
        }
        Err(err) => {
            tracing::error!(org = %org, invoice_id = %invoice.id, error = %err, "could not check the suspension after payment; the paid event will")
        }
    }
}

/// Records our invoice as paid, once (`InvoicePaid` with it); `false` if it was not payable.
async fn mark_paid(
    app: &App,
    invoice: &Invoice,
    stripe_id: &str,
    amount_paid: Cents,
    paid_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let org = &invoice.organization_id;
    let payment = Payment::new(org, stripe_id, amount_paid, Some("billing_invoice".to_owned()), paid_at);
    let event = Envelope::new(
        format!("invoice-paid-{}", invoice.id),
        org,
        paid_at,
        DomainEvent::InvoicePaid { invoice_id: invoice.id.clone(), amount_paid_usd: dollars(amount_paid) },
    );
    let paid_here = app.store.mark_invoice_paid(invoice, amount_paid, paid_at, &payment, &event, app.now()).await?;
    if paid_here {
        crate::telemetry::metrics::invoice_paid();
    }
    Ok(paid_here)
}

fn retry(err: impl Into<anyhow::Error>) -> MessageError {
    MessageError::Retry(err.into())
}

fn at(seconds: Option<i64>) -> Option<DateTime<Utc>> {
    seconds.and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// Applies a Stripe invoice event to our invoices. Invoices whose metadata names a
/// `billing_invoice_id` are ours (usage invoices): paid → paid (final), voided → void,
/// marked uncollectible → past due. Any other invoice (Stripe's subscription invoices) is
/// recorded as it stands, so the organization's list is its whole history. Every decision
/// is conditional on the stored state, so duplicated or reordered deliveries end the same.
pub async fn on_stripe_invoice(app: &App, kind: &str, object: &Value, created: i64) -> Result<(), MessageError> {
    let org = match object["metadata"]["organization_id"].as_str() {
        Some(raw) => OrganizationId::parse(raw).map_err(|e| MessageError::Reject(e.to_string()))?,
        None => {
            let customer = object["customer"].as_str().or_else(|| object["customer"]["id"].as_str());
            match customer {
                Some(c) => match app.store.org_for_customer(c).await.map_err(retry)? {
                    Some(org) => org,
                    None => return Err(retry(anyhow::anyhow!("invoice for an unknown customer"))),
                },
                None => return Ok(()),
            }
        }
    };
    let stripe_id = object["id"].as_str().unwrap_or_default();
    let Some(ours) = object["metadata"]["billing_invoice_id"].as_str() else {
        return record_subscription_invoice(app, &org, kind, object, created).await;
    };
    let Some(invoice) = app.store.invoice_by_id(ours).await.map_err(retry)? else {
        return Err(MessageError::Reject(format!("invoice {ours} named by Stripe does not exist")));
    };
    if invoice.organization_id != org {
        return Err(MessageError::Reject(format!("invoice {ours} belongs to another organization")));
    }
    let now = app.now();
    let changed = match kind {
        "invoice.paid" => {
            if invoice.status == InvoiceStatus::Draft {
                // Paid in Stripe before our generation issued it: once it is issued, apply.
                return Err(retry(anyhow::anyhow!("invoice {ours} is still being issued")));
            }
            let paid = object["amount_paid"].as_i64().unwrap_or(invoice.amount_due_cents);
            let paid_at = at(object["status_transitions"]["paid_at"].as_i64()).or(at(Some(created))).unwrap_or(now);
            mark_paid(app, &invoice, stripe_id, paid, paid_at).await.map_err(retry)?
        }
        "invoice.voided" => {
            if invoice.status == InvoiceStatus::Draft {
                // Only an issued invoice is voided; the generation in flight issues it first.
                return Err(retry(anyhow::anyhow!("invoice {ours} is still being issued")));
            }
            app.store
                .move_invoice_status(&invoice, &[InvoiceStatus::Open, InvoiceStatus::PastDue], InvoiceStatus::Void, now)
                .await
                .map_err(retry)?
        }
        "invoice.marked_uncollectible" => app
            .store
            .move_invoice_status(&invoice, &[InvoiceStatus::Open], InvoiceStatus::PastDue, now)
            .await
            .map_err(retry)?,
        _ => false,
    };
    tracing::info!(org = %org, invoice_id = ours, event = kind, changed, "usage invoice event applied");
    Ok(())
}

/// Records an invoice Stripe issued for the subscription, in its current state.
async fn record_subscription_invoice(
    app: &App,
    org: &OrganizationId,
    kind: &str,
    object: &Value,
    created: i64,
) -> Result<(), MessageError> {
    if !matches!(kind, "invoice.finalized" | "invoice.paid" | "invoice.voided" | "invoice.marked_uncollectible") {
        return Ok(());
    }
    let stripe_id = object["id"].as_str().ok_or_else(|| MessageError::Reject("invoice without id".into()))?;
    if !crate::ids::is_safe_id(stripe_id) {
        return Err(MessageError::Reject(format!("invoice id {stripe_id:?} is not a valid id")));
    }
    let Some(account) = app.store.get_account(org).await.map_err(retry)? else {
        return Err(retry(anyhow::anyhow!("invoice for an organization without an account yet")));
    };
    let status = match (kind, object["status"].as_str()) {
        ("invoice.paid", _) | (_, Some("paid")) => InvoiceStatus::Paid,
        ("invoice.voided", _) | (_, Some("void")) => InvoiceStatus::Void,
        ("invoice.marked_uncollectible", _) | (_, Some("uncollectible")) => InvoiceStatus::PastDue,
        _ => InvoiceStatus::Open,
    };
    // The first record of this invoice fixes its key; later events update that item.
    let issued = match app.store.invoice_by_id(stripe_id).await.map_err(retry)? {
        Some(existing) => existing.created_at,
        None => at(object["created"].as_i64()).or(at(Some(created))).unwrap_or_else(|| app.now()),
    };
    let mut invoice = Invoice::draft(org, &account.id, stripe_id.to_owned(), issued);
    invoice.source = InvoiceSource::StripeSubscription;
    invoice.status = status;
    invoice.number = object["number"].as_str().map(str::to_owned);
    invoice.period_start = at(object["period_start"].as_i64());
    invoice.period_end = at(object["period_end"].as_i64());
    invoice.line_items = object["lines"]["data"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    let amount = l["amount"].as_i64().unwrap_or_default();
                    let quantity = l["quantity"].as_u64().unwrap_or(1).max(1);
                    LineItem {
                        description: l["description"].as_str().unwrap_or("Subscription").to_owned(),
                        usage_type: "subscription".to_owned(),
                        kind: LineKind::Overage,
                        quantity,
                        unit_price: dollars(amount) / rust_decimal::Decimal::from(quantity),
                        amount_cents: amount,
                        period_start: at(l["period"]["start"].as_i64()),
                        period_end: at(l["period"]["end"].as_i64()),
                        usage_record_ids: Vec::new(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    invoice.priced = true;
    invoice.subtotal_cents = object["subtotal"].as_i64().unwrap_or_default();
    invoice.total_cents = object["total"].as_i64().unwrap_or(invoice.subtotal_cents);
    invoice.tax_cents = object["tax"].as_i64().unwrap_or_default();
    invoice.discount_cents = crate::promotions::stripe::invoice_discount(object);
    invoice.amount_paid_cents = object["amount_paid"].as_i64().unwrap_or_default();
    invoice.amount_due_cents = match status {
        InvoiceStatus::Paid | InvoiceStatus::Void => 0,
        _ => object["amount_remaining"].as_i64().or(object["amount_due"].as_i64()).unwrap_or_default(),
    };
    invoice.description = Some(object["description"].as_str().unwrap_or("Subscription invoice").to_owned());
    invoice.due_date = at(object["due_date"].as_i64());
    invoice.finalized_at = at(object["status_transitions"]["finalized_at"].as_i64());
    invoice.paid_at = (status == InvoiceStatus::Paid)
        .then(|| at(object["status_transitions"]["paid_at"].as_i64()).or(at(Some(created))))
        .flatten();
    invoice.stripe_invoice_id = Some(stripe_id.to_owned());
    invoice.hosted_invoice_url = object["hosted_invoice_url"].as_str().map(str::to_owned);
    invoice.invoice_pdf = object["invoice_pdf"].as_str().map(str::to_owned);
    invoice.collection_method = object["collection_method"].as_str().map(str::to_owned);
    invoice.updated_at = app.now();
    let recorded = app.store.record_stripe_invoice(&invoice).await.map_err(retry)?;
    tracing::info!(org = %org, stripe_invoice = stripe_id, status = status.as_str(), recorded, "subscription invoice recorded");
    Ok(())
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::invoicing::flow::InvoicingError> for crate::error::ApiError {
    fn from(err: crate::invoicing::flow::InvoicingError) -> Self {
        use crate::invoicing::flow::InvoicingError as E;
        let detail = err.to_string();
        match err {
            E::NothingToInvoice => Self::Conflict { code: "nothing_to_invoice", detail },
            E::NotPayable(_) => Self::Conflict { code: "invoice_not_payable", detail },
            E::NoAccount => Self::not_found("account_not_found", detail),
            E::Busy => Self::TooManyRequests { code: "invoice_generation_in_progress", detail, retry_after_secs: 2 },
            E::NoPaymentMethod { hosted_invoice_url } => {
                Self::InvoiceUnpaid { code: "no_payment_method", detail, hosted_invoice_url }
            }
            E::Declined { hosted_invoice_url } => {
                Self::InvoiceUnpaid { code: "payment_declined", detail, hosted_invoice_url }
            }
            E::Incomplete { hosted_invoice_url } => {
                Self::InvoiceUnpaid { code: "payment_incomplete", detail, hosted_invoice_url }
            }
            E::Inconsistent(_) => Self::Internal(anyhow::anyhow!(detail)),
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
        }
    }
}
