//! The monthly free-quota reset. A reserve in a new month starts it lazily (its own write
//! sets the period, see `write_grant`); the monthly close starts it eagerly with
//! [`Store::reset_free_quota`]. Both use [`start_free_period`], guarded by
//! `free_period < :period`, so the period only ever moves forward and each month starts once,
//! whoever gets there first.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::store::expr::UpdateExpr;
use crate::store::outbox::outbox_put;
use crate::store::{Retry, Store, StoreError, key_item, keys, timestamp};

/// Adds "the free quota of `period` starts with `remaining`" to an account update, only if the
/// stored period is earlier.
pub(crate) fn start_free_period(u: &mut UpdateExpr, period: &str, remaining: u32) {
    // `<`, not `<>`: a request from before midnight must never take the month back.
    let (fp, fr, p, rem) = (u.name("free_period"), u.name("free_remaining"), u.str(period), u.num(remaining));
    u.set(format!("{fp} = {p}")).set(format!("{fr} = {rem}")).require(format!("{fp} < {p}"));
}

impl Store {
    /// Starts `period`'s free quota (`free_workflows` runs) on the account, with its
    /// `FreeQuotaReset` event, in one transaction. `false` when the account is already in
    /// that period or a later one (a reserve reset it first, or the message was redelivered):
    /// then nothing is written and no event exists.
    pub async fn reset_free_quota(
        &self,
        org: &OrganizationId,
        period: &str,
        free_workflows: u32,
        reset: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut u = UpdateExpr::new();
        start_free_period(&mut u, period, free_workflows);
        let (updated, version, at, one) = (u.name("updated_at"), u.name("version"), u.str(timestamp(now)), u.num(1));
        u.set(format!("{updated} = {at}")).add(format!("{version} {one}")).require("attribute_exists(PK)".into());
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression(u.update_expression())
            .set_condition_expression(u.condition_expression())
            .set_expression_attribute_names(u.names())
            .set_expression_attribute_values(u.values())
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), reset, now)?).build(),
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }
}
