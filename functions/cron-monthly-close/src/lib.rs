//! `cron-monthly-close` — on the 1st of the month, after a grace period for late usage
//! events, lists the accounts whose previous month is still open (16 sharded index
//! partitions of that month, never a scan) and puts one message per account on the close
//! queue; `sqs-account-close` invoices each. Safe to run twice: a closed account's marker has
//! moved on, and closing is exactly-once anyway. `{"month": "YYYY-MM"}` closes that month.
//!
//! Shards are read and batches sent concurrently, so a million accounts (100,000 batches of
//! ten) fan out well within a Lambda's fifteen minutes.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use billing::App;
use billing::invoicing::store::close::CLOSE_SHARDS;
use billing::lambda::schedule::ScheduleEvent;
use billing::{ids::OrganizationId, period};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

/// `SendMessageBatch` calls in flight at once.
const SEND_CONCURRENCY: usize = 32;

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
    let shards: Vec<Vec<OrganizationId>> = futures::stream::iter(0..CLOSE_SHARDS)
        .map(|shard| app.store.accounts_to_close(&month, shard))
        .buffer_unordered(CLOSE_SHARDS as usize)
        .try_collect()
        .await?;
    let accounts: Vec<OrganizationId> = shards.into_iter().flatten().collect();
    // Owned chunks: a future borrowing a slice of `accounts` is not `Send` for every lifetime.
    let sent: Vec<usize> = futures::stream::iter(accounts.chunks(10).map(<[OrganizationId]>::to_vec))
        .map(|chunk| send_batch(&app, &queue, &month, chunk))
        .buffer_unordered(SEND_CONCURRENCY)
        .try_collect()
        .await?;
    let sent: usize = sent.into_iter().sum();
    tracing::info!(month, accounts = accounts.len(), sent, "monthly close fanned out");
    Ok(json!({ "month": month, "accounts": accounts.len(), "sent": sent }))
}

async fn send_batch(app: &App, queue: &str, month: &str, chunk: Vec<OrganizationId>) -> anyhow::Result<usize> {
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
    let out = app.sqs().send_message_batch().queue_url(queue).set_entries(Some(entries)).send().await?;
    if !out.failed.is_empty() {
        // The scheduler retries the job; accounts already closed are skipped then.
        anyhow::bail!("{} close messages were not accepted", out.failed.len());
    }
    Ok(chunk.len())
}
