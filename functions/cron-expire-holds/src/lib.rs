//! `cron-expire-holds` — every few minutes, releases holds whose expiry passed without a
//! heartbeat (a crashed worker), returning their quota and concurrency slot, and completes
//! settlements a crashed commit left half done. It reads only the sweep index entries that
//! are due, so its cost follows expired holds, not accounts. Safe to run twice: each step is
//! conditional on the hold still being the expired one. One entry that fails is logged and
//! counted; the others are still swept.

use billing::App;
use billing::lambda::schedule::ScheduleEvent;
use billing::quota::store::{QuotaError, SweepEntry};
use serde_json::json;

pub async fn handle(app: App, _event: ScheduleEvent) -> anyhow::Result<serde_json::Value> {
    let now = app.now();
    let due = app.store.sweep_due(now).await?;
    let (mut released, mut failed) = (0u32, 0u32);
    for entry in &due {
        let swept = match entry {
            SweepEntry::Account(org) => app.store.sweep_account(org, now).await,
            SweepEntry::Run(org, run_id) => match app.store.expire_hold(org, run_id, now).await {
                Ok(r) => Ok(u32::from(r.created)),
                // Settled or renewed between the query and the write: nothing to do.
                Err(QuotaError::NotFound(_) | QuotaError::AlreadySettled { .. }) => Ok(0),
                Err(err) => Err(err),
            },
        };
        match swept {
            Ok(n) => released += n,
            Err(err) => {
                failed += 1;
                tracing::error!(error = %err, entry = ?entry, "could not sweep an entry; continuing");
            }
        }
    }
    Ok(json!({ "due": due.len(), "released": released, "failed": failed }))
}
