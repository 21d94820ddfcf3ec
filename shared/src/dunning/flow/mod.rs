//! The overdue job (`cron-overdue-invoices`): for every unpaid usage invoice that needs
//! attention now, marks it past due (`InvoiceOverdue`), sends the reminder that is due
//! (`DunningReminder`) and, once it has been overdue long enough, suspends the account
//! (`AccountSuspended`, reason `invoice_overdue`). The rules are `domain::invoicing::dunning`;
//! the list and the once-only writes are `store::invoicing::dunning`.
//!
//! It reads only the dunning entries that are due, so its cost follows the invoices being
//! chased, not the accounts. Every step is a conditional write with its event in the same
//! transaction: running the job again, or twice at once, does nothing twice. An entry that
//! fails is logged and counted, and the others go on.

pub mod suspension;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

use crate::App;
use crate::dunning::rules::{self as dunning, ReminderOutcome, SuspensionCheck};
use crate::dunning::store::suspension::{NonPayment, Suspension};
use crate::dunning::store::{DueInvoice, DunningItem};
use crate::events::{DomainEvent, Envelope};
use crate::money::dollars;
use crate::store::StoreError;
use crate::store::work_index;

/// Entries chased at once.
const CONCURRENCY: usize = 8;

/// What a run did, returned as the job's JSON summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Due entries looked at (failures included).
    pub examined: u32,
    pub marked_past_due: u32,
    pub reminders_sent: u32,
    pub accounts_suspended: u32,
    /// Entries that could not be handled this time (logged); the next run tries again.
    pub failures: u32,
}

/// What chasing one invoice did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Chased {
    marked_past_due: bool,
    reminder_sent: bool,
    suspended: bool,
}

#[derive(Debug, thiserror::Error)]
enum ChaseError {
    #[error("the index entry {0} is not a dunning item")]
    Unreadable(String),
    #[error("invoice {0} is not past due although its dunning item says so")]
    Inconsistent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Chases every invoice due at the App's current time.
pub async fn run(app: &App) -> Result<Summary, StoreError> {
    let now = app.now();
    let due = app.store.dunning_due(now).await?;
    let results: Vec<(String, Result<Chased, ChaseError>)> = futures::stream::iter(due)
        .map(|entry| async move {
            match entry {
                Ok(entry) => (format!("{}/{}", entry.organization_id, entry.invoice_id), chase(app, &entry, now).await),
                Err(key) => (key.clone(), Err(ChaseError::Unreadable(key))),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut summary = Summary::default();
    for (entry, result) in results {
        summary.examined += 1;
        match result {
            Ok(chased) => {
                summary.marked_past_due += u32::from(chased.marked_past_due);
                summary.reminders_sent += u32::from(chased.reminder_sent);
                summary.accounts_suspended += u32::from(chased.suspended);
            }
            Err(err) => {
                summary.failures += 1;
                tracing::error!(entry, error = %err, "could not chase an overdue invoice; continuing");
            }
        }
    }
    tracing::info!(
        examined = summary.examined,
        marked_past_due = summary.marked_past_due,
        reminders_sent = summary.reminders_sent,
        accounts_suspended = summary.accounts_suspended,
        failures = summary.failures,
        "overdue invoices chased"
    );
    Ok(summary)
}

/// Runs the steps due for one invoice, then moves its entry to the next attention time.
async fn chase(app: &App, entry: &DueInvoice, now: DateTime<Utc>) -> Result<Chased, ChaseError> {
    let org = &entry.organization_id;
    // Paid or voided since the index was read: nothing to do.
    let Some(mut item) = app.store.dunning_item(org, &entry.invoice_id).await? else {
        return Ok(Chased::default());
    };
    let policy = &app.config.dunning;
    let mut progress = item.progress();
    let steps = dunning::steps_due(policy, item.due_date, &progress, now);
    let mut chased = Chased::default();
    // A refused step means another run (or a payment) changed the item: read it again.
    let mut refused = false;
    if steps.mark_past_due {
        chased.marked_past_due = app.store.mark_past_due(&item, &overdue_event(&item, now), now).await?;
        progress.past_due |= chased.marked_past_due;
        refused |= !chased.marked_past_due;
    }
    if let Some(offset) = steps.remind {
        let event = reminder_event(&item, offset, now);
        chased.reminder_sent = app.store.record_reminder(&item, offset, &steps.skip, &event, now).await?;
        if chased.reminder_sent {
            progress.reminders.insert(offset, ReminderOutcome::Sent);
            for skipped in &steps.skip {
                progress.reminders.entry(*skipped).or_insert(ReminderOutcome::Skipped);
            }
        }
        refused |= !chased.reminder_sent;
    }
    let mut settled_here = false;
    if steps.check_suspension {
        match suspend_if_active(app, &item).await? {
            SuspensionStep::Suspended => (chased.suspended, progress.suspension_settled) = (true, true),
            SuspensionStep::Settled => (settled_here, progress.suspension_settled) = (true, true),
            SuspensionStep::LookAgain => {}
        }
    }
    if refused {
        let Some(current) = app.store.dunning_item(org, &item.invoice_id).await? else {
            return Ok(chased);
        };
        let stored = current.progress();
        if steps.mark_past_due && !stored.past_due {
            return take_off_if_closed(app, &current).await.map(|()| chased);
        }
        progress.past_due |= stored.past_due;
        progress.reminders.extend(stored.reminders);
        progress.suspension_settled |= stored.suspension_settled;
        item = current;
    }
    let next = dunning::next_attention(policy, item.due_date, &progress);
    if settled_here || next.map(|at| work_index::due_key(at.timestamp())) != item.index_sk {
        app.store.reschedule_dunning(org, &item.invoice_id, next, settled_here).await?;
    }
    Ok(chased)
}

/// The past-due mark was refused and not made by anyone else: the item outlived its
/// invoice (closed before dunning existed, or removed by hand), so it leaves the index;
/// anything else is a fault to report.
async fn take_off_if_closed(app: &App, item: &DunningItem) -> Result<(), ChaseError> {
    if !app.store.dunning_invoice_closed(item).await? {
        return Err(ChaseError::Inconsistent(item.invoice_id.clone()));
    }
    app.store.reschedule_dunning(&item.organization_id, &item.invoice_id, None, false).await?;
    tracing::warn!(org = %item.organization_id, invoice_id = %item.invoice_id, "dunning item of a closed invoice taken off the list");
    Ok(())
}

/// What the suspension step came to.
enum SuspensionStep {
    Suspended,
    Settled,
    LookAgain,
}

/// The suspension step: an active account is suspended for this invoice; one already
/// suspended for it is settled; any other suspension is looked at again next run.
async fn suspend_if_active(app: &App, item: &DunningItem) -> Result<SuspensionStep, StoreError> {
    let org = &item.organization_id;
    let check = |account: Option<Suspension>| match account {
        Some(a) => dunning::suspension_check(a.is_suspended(), a.suspended_invoice_id.as_deref(), &item.invoice_id),
        // No account item (never expected for an invoiced organization): nothing to suspend yet.
        None => SuspensionCheck::LookAgain,
    };
    match check(app.store.suspension(org).await?) {
        SuspensionCheck::Settled => return Ok(SuspensionStep::Settled),
        SuspensionCheck::LookAgain => return Ok(SuspensionStep::LookAgain),
        SuspensionCheck::Suspend => {}
    }
    let name = item.invoice_number.as_deref().unwrap_or(&item.invoice_id);
    let reason =
        format!("invoice {name} is unpaid {} days after its due date", app.config.dunning.suspend_after_days());
    let event_id = format!("suspended-{}-overdue", item.invoice_id);
    if suspension::suspend(app, org, &item.invoice_id, NonPayment::InvoiceOverdue, event_id, reason).await? {
        return Ok(SuspensionStep::Suspended);
    }
    // Refused: a concurrent run, a payment or an operator got there first; or our own write
    // applied and only its answer was lost. The account says which.
    Ok(match check(app.store.suspension(org).await?) {
        SuspensionCheck::Settled => SuspensionStep::Settled,
        _ => SuspensionStep::LookAgain,
    })
}

fn overdue_event(item: &DunningItem, now: DateTime<Utc>) -> Envelope {
    Envelope::new(
        format!("invoice-overdue-{}", item.invoice_id),
        &item.organization_id,
        now,
        DomainEvent::InvoiceOverdue {
            invoice_id: item.invoice_id.clone(),
            invoice_number: item.invoice_number.clone(),
            amount_due_usd: dollars(item.amount_due_cents),
            due_date: item.due_date,
        },
    )
}

fn reminder_event(item: &DunningItem, offset: i64, now: DateTime<Utc>) -> Envelope {
    Envelope::new(
        format!("dunning-reminder-{}-{offset}", item.invoice_id),
        &item.organization_id,
        now,
        DomainEvent::DunningReminder {
            invoice_id: item.invoice_id.clone(),
            invoice_number: item.invoice_number.clone(),
            offset_days: offset,
            amount_due_usd: dollars(item.amount_due_cents),
            due_date: item.due_date,
            hosted_invoice_url: item.hosted_invoice_url.clone(),
        },
    )
}
