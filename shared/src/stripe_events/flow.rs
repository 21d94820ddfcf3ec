//! Applies Stripe events taken from the FIFO queue (ordered per customer).
//!
//! Events are read as plain JSON. Every effect is idempotent on its own (purchases are keyed
//! by payment, subscriptions only move forward in Stripe time, invoices are decided by their
//! own state, status changes are conditional), and the event's marker is set to `processed`
//! last, so a redelivered or duplicated event changes nothing twice.
//!
//! `PaymentFailed`, `AccountSuspended` and `AccountReactivated` go through the outbox: they
//! are written in the same transaction as the change they announce and published from the
//! table's stream (`stream-outbox`), never from here.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::App;
use crate::dunning::flow::suspension;
use crate::dunning::store::suspension::NonPayment;
use crate::events::{DomainEvent, Envelope};
use crate::messages::MessageError;
use crate::money::{Cents, rounded_cents};
use crate::stripe_events::store::{InvoiceClosed, Payment, Purchase, SubscriptionGuard};
use crate::subscriptions::flow::apply::{
    ApplyError, Origin, apply_subscription, at, because, move_to_plan, subscribed,
};
use crate::subscriptions::rules::{self as lifecycle, ChangeCause};
use crate::usage::rules::{LedgerEntry, LedgerKind};
use crate::{ids::OrganizationId, period};

fn retry(err: impl Into<anyhow::Error>) -> MessageError {
    MessageError::Retry(err.into())
}

fn reject(reason: impl Into<String>) -> MessageError {
    MessageError::Reject(reason.into())
}

/// The Stripe customer an event concerns (the FIFO group that keeps its events in order).
pub fn customer_of(event: &Value) -> Option<&str> {
    id_of(&event["data"]["object"]["customer"]).or_else(|| id_of(&event["data"]["previous_attributes"]["customer"]))
}

/// The id of a field that Stripe sends either as an id or as an expanded object.
fn id_of(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value.get("id").and_then(Value::as_str))
}

pub async fn process(app: &App, payload: &str) -> Result<(), MessageError> {
    let event: Value = serde_json::from_str(payload).map_err(|e| reject(format!("not JSON: {e}")))?;
    let id = event["id"].as_str().ok_or_else(|| reject("event without id"))?.to_owned();
    let kind = event["type"].as_str().unwrap_or_default().to_owned();
    let created = event["created"].as_i64().unwrap_or_default();
    let object = &event["data"]["object"];
    if app.store.stripe_event_status(&id).await.map_err(retry)?.as_deref() == Some("processed") {
        tracing::info!(event_id = %id, "Stripe event already processed");
        return Ok(());
    }
    tracing::info!(event_id = %id, event_type = %kind, "processing Stripe event");
    match kind.as_str() {
        // A delayed payment method (bank debit, transfer) completes the session unpaid; the
        // money arrives with async_payment_succeeded, granted through the same path.
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            checkout_completed(app, &id, object, created).await?
        }
        "checkout.session.async_payment_failed" => async_payment_failed(app, object).await?,
        "checkout.session.expired" => checkout_expired(app, object).await?,
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            subscription_changed(app, &id, &kind, object, created).await?
        }
        "customer.subscription.trial_will_end" => trial_will_end(app, object).await?,
        "invoice.paid" => {
            crate::invoicing::flow::on_stripe_invoice(app, &kind, object, created).await?;
            invoice_paid(app, object, created).await?
        }
        "invoice.payment_failed" => invoice_payment_failed(app, object, created).await?,
        "invoice.voided" => {
            crate::invoicing::flow::on_stripe_invoice(app, &kind, object, created).await?;
            invoice_voided(app, object, created).await?
        }
        // Our invoices and Stripe's subscription invoices in the organization's list.
        "invoice.finalized" | "invoice.marked_uncollectible" => {
            crate::invoicing::flow::on_stripe_invoice(app, &kind, object, created).await?
        }
        "charge.refunded" => charge_refunded(app, &id, object, created).await?,
        "payment_method.attached" | "payment_method.detached" => payment_methods_changed(app, &event).await?,
        other => tracing::info!(event_type = other, "Stripe event type not used by billing; acknowledged"),
    }
    app.store.set_stripe_event_status(&id, "processed").await.map_err(retry)?;
    // Webhook lag: Stripe's `created` (whole seconds) to now, once per event.
    if let Some(created) = DateTime::from_timestamp(created, 0).filter(|_| created > 0) {
        crate::telemetry::metrics::stripe_event_processed(app.now() - created);
    }
    Ok(())
}

/// The organization an object belongs to: our metadata first, then the customer map.
async fn organization_of(app: &App, object: &Value) -> Result<Option<OrganizationId>, MessageError> {
    if let Some(org) = object["metadata"]["organization_id"].as_str() {
        return OrganizationId::parse(org).map(Some).map_err(|e| reject(e.to_string()));
    }
    match id_of(&object["customer"]) {
        Some(customer) => app.store.org_for_customer(customer).await.map_err(retry),
        None => Ok(None),
    }
}

async fn checkout_completed(app: &App, event_id: &str, session: &Value, created: i64) -> Result<(), MessageError> {
    if session["mode"].as_str() == Some("setup") {
        return setup_completed(app, session).await;
    }
    let org = organization_of(app, session).await?.ok_or_else(|| reject("checkout session without organization"))?;
    if !matches!(session["payment_status"].as_str(), Some("paid") | Some("no_payment_required")) {
        tracing::info!(org = %org, "checkout completed without payment yet; waiting for the payment");
        return Ok(());
    }
    if let Some(customer) = id_of(&session["customer"]) {
        let email = session["customer_details"]["email"].as_str();
        app.store.link_customer(&org, customer, email).await.map_err(retry)?;
    }
    crate::promotions::flow::on_checkout_closed(app, &org, session, true).await.map_err(retry)?;
    let session_id = session["id"].as_str().unwrap_or_default();
    let payment_ref = id_of(&session["payment_intent"]).unwrap_or(session_id);
    let paid: Cents = session["amount_total"].as_i64().unwrap_or_default();
    let now = app.now();
    let purpose = session["metadata"]["purpose"].as_str().unwrap_or_default();
    let credited = match purpose {
        "credits" => paid,
        "pack" => {
            let pack_id = session["metadata"]["pack"].as_str().unwrap_or_default();
            let pack =
                app.catalog().pack(pack_id).ok_or_else(|| reject(format!("unknown workflow pack {pack_id:?}")))?;
            // A pack is prepaid standard runs, worth the catalog's run price each.
            rounded_cents(app.catalog().run_prices.standard * rust_decimal::Decimal::from(pack.workflows))
                .map_err(|e| reject(e.to_string()))?
        }
        "lifetime" => {
            let purchase = Purchase::new(&org, payment_ref, "lifetime", session_id, paid, 0, now);
            app.store.grant_purchase(&purchase, &lifetime_ledger_note(&org, payment_ref, now)).await.map_err(retry)?;
            let purchased_at = at(Some(created)).unwrap_or(now);
            let existing = app.store.subscription(&org).await.map_err(retry)?;
            if let Some(sub) = &existing
                && let Some(sub_id) = sub.stripe_subscription_id.as_deref()
                && lifecycle::grants_service(&sub.status)
                && !sub.cancel_at_period_end
            {
                // Lifetime replaces it: it runs out the period already paid and bills no more.
                // The key is the payment's, so every event about this purchase makes one request.
                let stripe = app.stripe().ok_or_else(|| {
                    retry(anyhow::anyhow!("Stripe is not configured: cannot stop subscription {sub_id} renewing"))
                })?;
                stripe
                    .cancel_at_period_end(sub_id, &format!("lifetime-{payment_ref}-{sub_id}"))
                    .await
                    .map_err(retry)?;
                let recorded = app.store.set_cancel_at_period_end(&org, sub_id, now).await.map_err(retry)?;
                tracing::info!(org = %org, subscription = sub_id, recorded, "lifetime bought: subscription ends at its period end");
            }
            app.store.mark_lifetime(&org, purchased_at, paid, now).await.map_err(retry)?;
            let sub = app.store.subscription(&org).await.map_err(retry)?;
            let plan = lifecycle::plan(sub.as_ref().and_then(subscribed), Some(purchased_at.timestamp()));
            let period = period::month_key(now);
            let why = because(ChangeCause::LifetimePurchase, "checkout", "lifetime plan purchased");
            return move_to_plan(app, &org, plan, Some(&period), event_id, purchased_at, why).await.map_err(applying);
        }
        // The subscription's own events set the tier; the session linked the customer and
        // puts a launch offer's phases in place.
        "subscription" => {
            return crate::launch_offers::flow::on_checkout_paid(app, &org, session).await.map_err(|e| match e {
                crate::launch_offers::flow::LaunchError::Invalid(why) => reject(why),
                other => retry(other),
            });
        }
        other => return Err(reject(format!("checkout session with unknown purpose {other:?}"))),
    };
    let purchase = Purchase::new(&org, payment_ref, purpose, session_id, paid, credited, now);
    let entry = LedgerEntry::new(
        &org,
        LedgerKind::Purchase,
        credited,
        format!("checkout-{session_id}"),
        format!("{purpose} purchase"),
        "stripe",
        now,
    );
    let granted = app.store.grant_purchase(&purchase, &entry).await.map_err(retry)?;
    tracing::info!(org = %org, credited_cents = credited, granted, "checkout purchase applied");
    Ok(())
}

/// A setup-mode session completed: the customer saved a card through Checkout
/// (`flows::checkout::setup_checkout`). The card becomes the default payment method when the
/// customer has none, as an attach with `set_as_default` would. Asking Stripe for the default
/// first makes a redelivery (or an event for an older session) change nothing. A session of
/// no known organization, or one that saved nothing, is acknowledged: retrying cannot help.
async fn setup_completed(app: &App, session: &Value) -> Result<(), MessageError> {
    let session_id = session["id"].as_str().unwrap_or_default();
    let (Some(org), Some(customer)) = (organization_of(app, session).await?, id_of(&session["customer"])) else {
        tracing::warn!(session_id, "setup session of no known organization or customer; acknowledged");
        return Ok(());
    };
    let stripe = app.stripe().ok_or_else(|| retry(anyhow::anyhow!("Stripe is not configured: setup {session_id}")))?;
    // An expanded SetupIntent carries its payment method; an id is looked up.
    let intent = &session["setup_intent"];
    let method = match (intent.get("payment_method").map(id_of), id_of(intent)) {
        (Some(expanded), _) => expanded.map(str::to_owned),
        (None, Some(intent_id)) => match stripe.setup_intent_payment_method(intent_id).await {
            Ok(method) => method,
            Err(crate::payments::client::PaymentError::NotFound(_)) => None,
            Err(e) => return Err(retry(e)),
        },
        (None, None) => None,
    };
    let Some(method) = method else {
        tracing::warn!(org = %org, session_id, "setup session saved no payment method; acknowledged");
        return Ok(());
    };
    let made_default = match stripe.default_payment_method(customer).await.map_err(retry)? {
        Some(_) => false,
        None => {
            stripe.set_default_payment_method(customer, &method).await.map_err(retry)?;
            true
        }
    };
    app.store.set_has_payment_method(&org, true).await.map_err(retry)?;
    crate::telemetry::audit(
        &org,
        "payment_method_added",
        &format!("{method} through checkout {session_id}; made default: {made_default}"),
    );
    Ok(())
}

/// A session that closed unpaid: the promotion code it held is given back.
async fn checkout_expired(app: &App, session: &Value) -> Result<(), MessageError> {
    let org = organization_of(app, session).await?.ok_or_else(|| reject("checkout session without organization"))?;
    crate::promotions::flow::on_checkout_closed(app, &org, session, false).await.map_err(retry)
}

/// A delayed payment that did not go through: nothing was granted, so nothing is taken back;
/// the customer can check out again, and the promotion code it held is given back.
async fn async_payment_failed(app: &App, session: &Value) -> Result<(), MessageError> {
    let org = organization_of(app, session).await?.ok_or_else(|| reject("checkout session without organization"))?;
    crate::promotions::flow::on_checkout_closed(app, &org, session, false).await.map_err(retry)?;
    tracing::warn!(
        org = %org,
        session_id = session["id"].as_str().unwrap_or_default(),
        purpose = session["metadata"]["purpose"].as_str().unwrap_or_default(),
        "delayed checkout payment failed; nothing granted"
    );
    Ok(())
}

/// Lifetime purchases grant no credits; their ledger line (amount 0) records the sale.
fn lifetime_ledger_note(org: &OrganizationId, payment_ref: &str, now: DateTime<Utc>) -> LedgerEntry {
    LedgerEntry::new(
        org,
        LedgerKind::Purchase,
        0,
        format!("lifetime-{payment_ref}"),
        "lifetime plan purchase",
        "stripe",
        now,
    )
}

/// Applies a subscription event (see [`apply_subscription`] for the ordering rules).
async fn subscription_changed(
    app: &App,
    event_id: &str,
    kind: &str,
    sub: &Value,
    created: i64,
) -> Result<(), MessageError> {
    let Some(org) = organization_of(app, sub).await? else {
        // The customer link may still be on its way (checkout completion): retry later.
        return Err(retry(anyhow::anyhow!("subscription for an unknown customer")));
    };
    // A deleted subscription is canceled whatever the payload's status says.
    let status = if kind == "customer.subscription.deleted" {
        "canceled"
    } else {
        sub["status"].as_str().unwrap_or("incomplete")
    };
    apply_subscription(app, &org, sub, status, Origin::Event { id: event_id, kind, created }).await.map_err(applying)
}

/// Stripe's notice three days before a trial ends: announced as `TrialEnding` once per
/// subscription and trial end, whatever the deliveries.
async fn trial_will_end(app: &App, sub: &Value) -> Result<(), MessageError> {
    let Some(org) = organization_of(app, sub).await? else {
        return Err(retry(anyhow::anyhow!("subscription for an unknown customer")));
    };
    let sub_id = sub["id"].as_str().ok_or_else(|| reject("subscription without id"))?;
    let trial_end = at(sub["trial_end"].as_i64()).ok_or_else(|| reject("trial_will_end without trial_end"))?;
    let price = sub["items"]["data"][0]["price"]["id"].as_str().unwrap_or_default();
    let tier = app.config.stripe.tier_for_price(price).map(str::to_owned);
    let has_payment_method = app.store.get_account(&org).await.map_err(retry)?.is_some_and(|a| a.has_payment_method);
    let event = Envelope::new(
        format!("trial-ending-{sub_id}-{}", trial_end.timestamp()),
        &org,
        app.now(),
        DomainEvent::TrialEnding { subscription_id: sub_id.to_owned(), tier, trial_end, has_payment_method },
    );
    app.store.announce(&event, app.now()).await.map_err(retry)?;
    tracing::info!(org = %org, subscription = sub_id, "trial ending announced");
    Ok(())
}

fn applying(err: ApplyError) -> MessageError {
    match err {
        ApplyError::Invalid(reason) => reject(reason),
        other => retry(other),
    }
}

async fn invoice_paid(app: &App, invoice: &Value, created: i64) -> Result<(), MessageError> {
    let Some(org) = organization_of(app, invoice).await? else {
        return Err(retry(anyhow::anyhow!("invoice for an unknown customer")));
    };
    let invoice_id = invoice["id"].as_str().unwrap_or_default();
    let paid = invoice["amount_paid"].as_i64().unwrap_or_default();
    let reason = invoice["billing_reason"].as_str().map(str::to_owned);
    let recorded =
        app.store.record_payment(&Payment::new(&org, invoice_id, paid, reason, app.now())).await.map_err(retry)?;
    // Paid is final for the invoice: a failure event arriving later no longer suspends.
    app.store.record_invoice_closed(&org, invoice_id, InvoiceClosed::Paid, created, app.now()).await.map_err(retry)?;
    tracing::info!(org = %org, invoice_id, paid_cents = paid, recorded, "invoice payment recorded");
    if invoice["billing_reason"].as_str() == Some("subscription_cycle") {
        // A renewal: the quota restarts at the period the subscription itself reports. The
        // invoice's lines are no guide (a proration line for the old period often comes
        // first); if the subscription's renewal event is still on its way, it resets then.
        let sub = app.store.subscription(&org).await.map_err(retry)?;
        let start =
            sub.filter(|s| !s.is_lifetime && lifecycle::grants_service(&s.status)).and_then(|s| s.current_period_start);
        if let (Some(start), Some(account)) = (start, app.store.get_account(&org).await.map_err(retry)?) {
            let key = start.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            app.store.set_account_tier(&org, account.tier.as_str(), Some(&key), app.now()).await.map_err(retry)?;
        }
    }
    lift_payment_suspension(app, &org, invoice_id, "paid").await
}

/// A voided invoice is no longer owed: it stops holding a suspension, like a paid one.
async fn invoice_voided(app: &App, invoice: &Value, created: i64) -> Result<(), MessageError> {
    let Some(org) = organization_of(app, invoice).await? else {
        return Err(retry(anyhow::anyhow!("invoice for an unknown customer")));
    };
    let invoice_id = invoice["id"].as_str().unwrap_or_default();
    let closed = app
        .store
        .record_invoice_closed(&org, invoice_id, InvoiceClosed::Voided, created, app.now())
        .await
        .map_err(retry)?;
    tracing::info!(org = %org, invoice_id, closed, "invoice voided");
    lift_payment_suspension(app, &org, invoice_id, "voided").await
}

/// Reactivates an account after an invoice was paid (or voided), only if unpaid invoices
/// suspended it and none of them is still unpaid. A suspension for another reason stays.
async fn lift_payment_suspension(
    app: &App,
    org: &OrganizationId,
    paid_invoice: &str,
    how: &str,
) -> Result<(), MessageError> {
    suspension::lift_after_settlement(app, org, paid_invoice, how).await.map_err(retry)?;
    Ok(())
}

async fn invoice_payment_failed(app: &App, invoice: &Value, created: i64) -> Result<(), MessageError> {
    let Some(org) = organization_of(app, invoice).await? else {
        return Err(retry(anyhow::anyhow!("invoice for an unknown customer")));
    };
    let invoice_id = invoice["id"].as_str().unwrap_or_default().to_owned();
    let attempts = u32::try_from(invoice["attempt_count"].as_u64().unwrap_or(1)).unwrap_or(u32::MAX);
    let due = crate::money::dollars(invoice["amount_due"].as_i64().unwrap_or_default());
    let failed = Envelope::new(
        format!("payment-failed-{invoice_id}-{attempts}"),
        &org,
        app.now(),
        DomainEvent::PaymentFailed { invoice_id: invoice_id.clone(), attempt_count: attempts, amount_due_usd: due },
    );
    // Decided by the invoice's own state, not by arrival order.
    if !app
        .store
        .record_invoice_failure(&org, &invoice_id, attempts, created, &failed, app.now())
        .await
        .map_err(retry)?
    {
        tracing::info!(org = %org, invoice_id, attempts, created, "invoice already paid or a newer attempt applied; failure ignored");
        return Ok(());
    }
    // Only a serving subscription falls past due; an ended or paused one keeps its status,
    // and a failed usage invoice (ours: `billing_invoice_id`) says nothing about it.
    let usage_invoice = invoice["metadata"]["billing_invoice_id"].is_string();
    if !usage_invoice
        && let Some(mut sub) = app.store.subscription(&org).await.map_err(retry)?
        && !sub.is_lifetime
        && sub.order_rank.is_some()
        && matches!(sub.status.as_str(), "active" | "trialing")
    {
        sub.status = "past_due".into();
        sub.updated_at = app.now();
        app.store.put_subscription(&sub, SubscriptionGuard::Newer).await.map_err(retry)?;
    }
    if attempts >= app.config.failed_payments_before_suspension {
        let now_suspended = suspension::suspend(
            app,
            &org,
            &invoice_id,
            NonPayment::PaymentFailed,
            format!("suspended-{invoice_id}-{attempts}"),
            format!("payment of invoice {invoice_id} failed {attempts} times"),
        )
        .await
        .map_err(retry)?;
        tracing::info!(org = %org, invoice_id, attempts, now_suspended, "payment failures reached the suspension threshold");
    }
    Ok(())
}

async fn charge_refunded(app: &App, event_id: &str, charge: &Value, created: i64) -> Result<(), MessageError> {
    let payment_ref = id_of(&charge["payment_intent"]).unwrap_or_default();
    let Some(purchase) = app.store.purchase(payment_ref).await.map_err(retry)? else {
        tracing::info!(payment_ref, "refund of a payment that bought no credits; nothing to reverse");
        return Ok(());
    };
    let refunded = charge["amount_refunded"].as_i64().unwrap_or_default();
    let reversed = app.store.reverse_purchase(&purchase, refunded, app.now()).await.map_err(retry)?;
    tracing::info!(org = %purchase.organization_id, reversed_cents = reversed, "refund reversed credits");
    if purchase.kind == "lifetime" && refunded >= purchase.paid_cents {
        // The lifetime plan was paid back in full: the account returns to what its
        // subscription gives, or free.
        let org = &purchase.organization_id;
        let now = app.now();
        app.store.unmark_lifetime(org, now).await.map_err(retry)?;
        let sub = app.store.subscription(org).await.map_err(retry)?;
        let plan = lifecycle::plan(sub.as_ref().and_then(subscribed), None);
        let period = period::month_key(now);
        let changed_at = at(Some(created)).unwrap_or(now);
        let why = because(ChangeCause::LifetimeRefund, "stripe", "lifetime purchase refunded in full");
        move_to_plan(app, org, plan, Some(&period), event_id, changed_at, why).await.map_err(applying)?;
    }
    Ok(())
}

async fn payment_methods_changed(app: &App, event: &Value) -> Result<(), MessageError> {
    // After a detach the method has no customer; Stripe names the old one in previous_attributes.
    let Some(customer) = customer_of(event) else { return Ok(()) };
    let Some(org) = app.store.org_for_customer(customer).await.map_err(retry)? else {
        return Err(retry(anyhow::anyhow!("payment method of an unknown customer")));
    };
    let has = match app.stripe() {
        // Ask Stripe what is left: events may arrive out of order.
        Some(stripe) => !stripe.payment_methods(customer).await.map_err(retry)?.is_empty(),
        None => event["type"].as_str() == Some("payment_method.attached"),
    };
    app.store.set_has_payment_method(&org, has).await.map_err(retry)
}
