//! `cron-monthly-close` — on the 1st of the month, after a grace period for late usage
//! events, lists the accounts whose previous month is still open (16 sharded index
//! partitions of that month, never a scan) and puts one message per account on the close
//! queue; `sqs-account-close` invoices each. Safe to run twice: a closed account's marker has
//! moved on, and closing is exactly-once anyway. `{"month": "YYYY-MM"}` closes that month.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use billing::App;
use billing::domain::period;
use billing::lambda::schedule::ScheduleEvent;
use serde_json::json;

pub async fn handle(app: App, event: ScheduleEvent) -> anyhow::Result<serde_json::Value> {
    let month = match event.get("month").and_then(|m| m.as_str()) {
        Some(month) => month.to_owned(),
        // The month before the one we are in.
        None => period::month_key(period::month_start(app.now()) - chrono::Duration::days(1)),
    };
    let queue = app
        .config
        .account_close_queue_url
        .clone()
        .ok_or_else(|| anyhow::anyhow!("ACCOUNT_CLOSE_QUEUE_URL is not set"))?;
    let accounts = app.store.accounts_to_close(&month).await?;
    let mut sent = 0usize;
    for chunk in accounts.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, org)| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body(json!({ "organization_id": org, "month": month }).to_string())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = app.sqs.send_message_batch().queue_url(&queue).set_entries(Some(entries)).send().await?;
        if !out.failed.is_empty() {
            // The scheduler retries the job; accounts already closed are skipped then.
            anyhow::bail!("{} close messages were not accepted", out.failed.len());
        }
        sent += chunk.len();
    }
    tracing::info!(month, accounts = accounts.len(), sent, "monthly close fanned out");
    Ok(json!({ "month": month, "accounts": accounts.len(), "sent": sent }))
}
