//! `cron-expire-holds` — every few minutes, releases holds whose expiry passed without a
//! heartbeat (a crashed worker), returning their quota and concurrency slot. Safe to run
//! twice: each release is conditional on the hold still being the expired one.

use billing::App;
use billing::lambda::schedule::ScheduleEvent;
use billing::store::quota::QuotaError;
use serde_json::json;

pub async fn handle(app: App, _event: ScheduleEvent) -> anyhow::Result<serde_json::Value> {
    let now = app.now();
    let expired = app.store.expired_holds(now).await?;
    let (mut released, mut skipped) = (0u32, 0u32);
    for (org, run_id) in &expired {
        match app.store.expire_hold(org, run_id, now).await {
            Ok(r) if r.created => released += 1,
            Ok(_) => skipped += 1,
            // Committed, released or renewed between the scan and the write: nothing to do.
            Err(QuotaError::NotFound(_) | QuotaError::AlreadySettled { .. }) => skipped += 1,
            Err(err) => {
                return Err(anyhow::Error::new(err).context(format!("expiring run {run_id} of {org}")));
            }
        }
    }
    Ok(json!({ "found": expired.len(), "released": released, "skipped": skipped }))
}
