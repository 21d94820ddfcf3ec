//! `cron-overdue-invoices` — daily: chases unpaid usage invoices (`billing::dunning::flow`).
//! Marks those past their due date `past_due` (`InvoiceOverdue`), sends each reminder at its
//! offset from the due date once (`DunningReminder`), and suspends the account of one still
//! unpaid `SUSPEND_AFTER_DAYS_OVERDUE` days after it (`AccountSuspended`). Reads only the
//! dunning entries due now (sharded index, no scan). Safe to run twice, or twice at once.
//! Answers `{examined, marked_past_due, reminders_sent, accounts_suspended, failures}`.

use billing::App;
use billing::lambda::schedule::ScheduleEvent;

pub async fn handle(app: App, _event: ScheduleEvent) -> anyhow::Result<serde_json::Value> {
    let summary = billing::dunning::flow::run(&app).await?;
    Ok(serde_json::to_value(summary)?)
}
