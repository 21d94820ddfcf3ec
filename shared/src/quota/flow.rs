//! The eager monthly free-quota reset, run by the monthly close: when an account's month is
//! closed, the next month's free quota starts on the account at once (with `FreeQuotaReset`),
//! instead of waiting for the account's first reservation of the month to start it lazily.
//! Both go through the same forward-only write (`store::quota`), so the month starts once.

use crate::App;
use crate::events::{DomainEvent, Envelope};
use crate::store::StoreError;
use crate::{ids::OrganizationId, period};

/// After `closed_month` (`YYYY-MM`) was closed, starts the following month's free quota if it
/// has begun and the account is still in an earlier one. `true` when this call moved the
/// period (and wrote the event); a redelivered close, or an account a reservation already
/// moved, changes nothing.
pub async fn reset_after_close(app: &App, org: &OrganizationId, closed_month: &str) -> Result<bool, StoreError> {
    let Some(start) = period::parse_month_key(closed_month) else {
        tracing::warn!(org = %org, closed_month, "not a month key; no free-quota reset");
        return Ok(false);
    };
    let next = period::month_key(period::next_month_start(start));
    let now = app.now();
    if next > period::month_key(now) {
        // Closing the month in progress: its successor has not begun.
        return Ok(false);
    }
    let free_workflows = app.catalog().free_workflows_per_month();
    let event = Envelope::new(
        format!("free-quota-reset-{org}-{next}"),
        org,
        now,
        DomainEvent::FreeQuotaReset { period: next.clone(), free_workflows },
    );
    let moved = app.store.reset_free_quota(org, &next, free_workflows, &event, now).await?;
    tracing::info!(org = %org, period = %next, moved, "free quota reset at the monthly close");
    Ok(moved)
}
