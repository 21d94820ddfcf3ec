//! Reservations against the account item: reserve, heartbeat, commit, release, expire.
//!
//! Reserve is one conditional `UpdateItem` in the common case. The decision is made from the
//! best knowledge at hand (the last state this process saw, or a fresh-account guess) and the
//! write's condition re-checks it; when the condition fails DynamoDB returns the current
//! item (`ALL_OLD`), the decision is remade from it, and the write retried with jittered
//! backoff. Nothing is granted that the item does not have at the instant of the write.
//!
//! Commit is one transaction (account update + usage record + ledger entry) so a settled
//! run and its records exist together or not at all. Release and expiry are one update.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Duration, Utc};

use super::expr::UpdateExpr;
use super::{Item, Store, StoreError, decode, encode, key_item, keys, timestamp};
use crate::domain::account::Account;
use crate::domain::money::Cents;
use crate::domain::quota::{
    self, Bucket, Decision, ExceedsHold, Grant, Hold, Outcome, Refusal, ReserveRequest, Settlement, Take,
};
use crate::domain::usage::{LedgerEntry, LedgerKind, RunRecord, UsageRecord};
use crate::domain::{Catalog, OrganizationId};

/// Attempts before a contended operation gives up and asks the caller to retry.
const MAX_ATTEMPTS: u32 = 12;
/// Sparse-index partition listing accounts that have (or had) holds, for the sweeper.
pub const HOLDS_INDEX_PK: &str = "ACCOUNTS_WITH_HOLDS";

#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    #[error("reservation refused: {0:?}")]
    Refused(Refusal),
    #[error("run {run_id} was already {}", outcome.as_str())]
    AlreadySettled { run_id: String, outcome: Outcome },
    #[error("no reservation for run {0}")]
    NotFound(String),
    #[error("the actual cost {} exceeds the hold {}", .0.actual_cents, .0.held_cents)]
    ExceedsHold(ExceedsHold),
    #[error("the account is too busy; retry")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    pub hold: Hold,
    /// False when this was a replay of an existing reservation.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    pub usage: UsageRecord,
    /// False when this was a replay of an earlier commit.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub settlement: Settlement,
    pub created: bool,
}

/// The result of one conditional write (short-lived, so its size does not matter).
#[allow(clippy::large_enum_variant)]
enum Written<T> {
    Done(T),
    /// The condition failed; the item as it was, if it exists.
    ConditionFailed(Option<Account>),
}

impl Store {
    /// Reserves quota for `request.run_id`, or returns the reservation it already has.
    pub async fn reserve(
        &self,
        org: &OrganizationId,
        request: &ReserveRequest,
        catalog: &Catalog,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Reserved, QuotaError> {
        // The remembered state is only a guess: a grant made from it is re-checked by the
        // write, but a refusal is only given on state DynamoDB has just returned.
        let mut known = self.recall(org);
        let mut guessing = true;
        for attempt in 0..MAX_ATTEMPTS {
            let account = known.clone().unwrap_or_else(|| fresh_account(org, catalog, now));
            match quota::decide(&account, request, catalog, now, ttl) {
                Decision::Grant(grant) => match self.write_grant(org, &request.run_id, &grant, now).await? {
                    Written::Done(_) => {
                        return Ok(Reserved { hold: grant.hold, created: true });
                    }
                    Written::ConditionFailed(Some(current)) => {
                        if !guessing {
                            backoff(attempt).await;
                        }
                        known = Some(current);
                        guessing = false;
                    }
                    Written::ConditionFailed(None) => {
                        let created = self.get_or_create_account(fresh_account(org, catalog, now)).await?;
                        known = Some(created);
                        guessing = false;
                    }
                },
                // Decisions other than a grant are only trusted on a state DynamoDB returned.
                _ if guessing => {
                    guessing = false;
                    let current = self.get_account(org).await?;
                    known = Some(match current {
                        Some(a) => a,
                        None => self.get_or_create_account(fresh_account(org, catalog, now)).await?,
                    });
                }
                Decision::Existing(hold) => {
                    return Ok(Reserved { hold, created: false });
                }
                Decision::Settled(outcome) => {
                    return Err(QuotaError::AlreadySettled { run_id: request.run_id.clone(), outcome });
                }
                Decision::Refuse(Refusal::ConcurrencyFull { limit, retry_after_secs }) => {
                    // A crashed worker's hold must not block a slot past its expiry.
                    let expired: Vec<String> = account
                        .holds
                        .iter()
                        .filter(|(_, h)| h.expires_at <= now.timestamp())
                        .map(|(r, _)| r.clone())
                        .collect();
                    if expired.is_empty() {
                        return Err(QuotaError::Refused(Refusal::ConcurrencyFull { limit, retry_after_secs }));
                    }
                    for run_id in expired {
                        match self.finish_release(org, &run_id, Outcome::Expired, now).await {
                            Ok(_) | Err(QuotaError::NotFound(_)) | Err(QuotaError::AlreadySettled { .. }) => {}
                            Err(other) => return Err(other),
                        }
                    }
                    known = self.get_account(org).await?;
                }
                Decision::Refuse(refusal) => return Err(QuotaError::Refused(refusal)),
            }
        }
        Err(QuotaError::Contended)
    }

    /// What reserve would answer now, without writing anything.
    pub async fn check_reserve(
        &self,
        org: &OrganizationId,
        request: &ReserveRequest,
        catalog: &Catalog,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Decision, StoreError> {
        let account = self.get_account(org).await?.unwrap_or_else(|| fresh_account(org, catalog, now));
        Ok(quota::decide(&account, request, catalog, now, ttl))
    }

    async fn write_grant(
        &self,
        org: &OrganizationId,
        run_id: &str,
        grant: &Grant,
        now: DateTime<Utc>,
    ) -> Result<Written<Account>, StoreError> {
        let mut u = UpdateExpr::new();
        let (holds, settled, run) = (u.name("holds"), u.name("settled"), u.name(run_id));
        let hold = u.value(serde_dynamo::to_attribute_value(&grant.hold).map_err(StoreError::Encode)?);
        let (status, tier, updated, version) =
            (u.name("status"), u.name("tier"), u.name("updated_at"), u.name("version"));
        let (active, tier_value, now_value, one) =
            (u.str("active"), u.str(grant.tier.as_str()), u.str(timestamp(now)), u.num(1));
        let (index_pk, index_sk) = (u.name("GSI2PK"), u.name("GSI2SK"));
        let (index_pk_value, index_sk_value) = (u.str(HOLDS_INDEX_PK), u.str(org.as_str()));
        u.set(format!("{holds}.{run} = {hold}"))
            .set(format!("{updated} = {now_value}"))
            .set(format!("{index_pk} = {index_pk_value}"))
            .set(format!("{index_sk} = {index_sk_value}"))
            .add(format!("{version} {one}"));
        u.require("attribute_exists(PK)".into())
            .require(format!("attribute_not_exists({holds}.{run})"))
            .require(format!("attribute_not_exists({settled}.{run})"))
            .require(format!("{status} = {active}"))
            .require(format!("{tier} = {tier_value}"));
        let (blocked, month) = (u.name("budget_blocked_period"), u.str(&grant.month));
        u.require(format!("attribute_not_exists({blocked}) OR {blocked} <> {month}"));
        if let Some(limit) = grant.agents_limit {
            let limit = u.num(limit);
            u.require(format!("size({holds}) < {limit}"));
        }
        match &grant.take {
            Take::Free { period } => {
                let (fp, fr, p) = (u.name("free_period"), u.name("free_remaining"), u.str(period));
                u.set(format!("{fr} = {fr} - {one}")).require(format!("{fp} = {p}")).require(format!("{fr} >= {one}"));
            }
            Take::FreeNewMonth { period, remaining_after } => {
                let (fp, fr, p, rem) =
                    (u.name("free_period"), u.name("free_remaining"), u.str(period), u.num(remaining_after));
                u.set(format!("{fp} = {p}")).set(format!("{fr} = {rem}")).require(format!("{fp} <> {p}"));
            }
            Take::Credits { amount } => {
                let (bal, held, amt) = (u.name("credit_balance_cents"), u.name("credit_held_cents"), u.num(amount));
                u.set(format!("{bal} = {bal} - {amt}"))
                    .set(format!("{held} = {held} + {amt}"))
                    .require(format!("{bal} >= {amt}"));
            }
            Take::Subscription { period, limit } => {
                let (up, used, p, lim) = (u.name("usage_period"), u.name("period_used"), u.str(period), u.num(limit));
                u.set(format!("{used} = {used} + {one}"))
                    .require(format!("{up} = {p}"))
                    .require(format!("{used} < {lim}"));
            }
            Take::SubscriptionNewMonth { period } => {
                let (up, used, p) = (u.name("usage_period"), u.name("period_used"), u.str(period));
                u.set(format!("{up} = {p}")).set(format!("{used} = {one}")).require(format!("{up} <> {p}"));
            }
            Take::Overage => {
                let (pm, yes) = (u.name("has_payment_method"), u.value(AttributeValue::Bool(true)));
                u.require(format!("{pm} = {yes}"));
            }
            Take::Nothing => {}
        }
        self.conditional_update(org, &u).await
    }

    /// Extends a hold's expiry to `now + ttl`.
    pub async fn heartbeat(
        &self,
        org: &OrganizationId,
        run_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Hold, QuotaError> {
        let mut u = UpdateExpr::new();
        let (holds, run, expires) = (u.name("holds"), u.name(run_id), u.name("expires_at"));
        let new_expiry = u.num((now + ttl).timestamp());
        u.set(format!("{holds}.{run}.{expires} = {new_expiry}")).require(format!("attribute_exists({holds}.{run})"));
        match self.conditional_update(org, &u).await? {
            Written::Done(account) => {
                account.holds.get(run_id).cloned().ok_or_else(|| QuotaError::NotFound(run_id.to_owned()))
            }
            Written::ConditionFailed(_) => Err(self.no_open_hold(org, run_id).await?),
        }
    }

    /// Settles a hold with the run's actual cost. The account update, the usage record, the
    /// run record and (when credits were spent) the ledger entry are one transaction. A repeat
    /// returns the first result.
    pub async fn commit(
        &self,
        org: &OrganizationId,
        run_id: &str,
        actual_cost: Option<Cents>,
        overage_approved: bool,
        details: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<Committed, QuotaError> {
        for attempt in 0..MAX_ATTEMPTS {
            let account = self.get_account(org).await?.ok_or_else(|| QuotaError::NotFound(run_id.to_owned()))?;
            let Some(hold) = account.holds.get(run_id).cloned() else {
                return match self.run_record(org, run_id).await? {
                    Some(record) if record.settlement.outcome == Outcome::Committed => {
                        let usage = self
                            .usage_record(org, &record.settlement.hold, run_id)
                            .await?
                            .ok_or_else(|| QuotaError::NotFound(run_id.to_owned()))?;
                        Ok(Committed { usage, created: false })
                    }
                    Some(record) => Err(QuotaError::AlreadySettled {
                        run_id: run_id.to_owned(),
                        outcome: record.settlement.outcome,
                    }),
                    None => Err(QuotaError::NotFound(run_id.to_owned())),
                };
            };
            let settle = quota::settle(&hold, actual_cost, overage_approved).map_err(QuotaError::ExceedsHold)?;
            let settlement = Settlement {
                outcome: Outcome::Committed,
                at: now,
                hold: hold.clone(),
                charged_cents: settle.charged_cents,
                excess_cents: settle.excess_cents,
            };
            let usage =
                UsageRecord::for_commit(org, &account.id, run_id, &hold, settle, actual_cost, details.clone(), now);

            let mut u = settle_update(&account, run_id, &settlement, now);
            let one = u.num(1);
            let completed = u.name("total_workflows_completed");
            u.set(format!("{completed} = {completed} + {one}"));
            if hold.bucket == Bucket::Credits {
                let (bal, held, spent) =
                    (u.name("credit_balance_cents"), u.name("credit_held_cents"), u.name("total_spent_cents"));
                let (held_amount, refund, charged) =
                    (u.num(hold.amount_cents), u.num(settle.refund_cents), u.num(settle.charged_cents));
                u.set(format!("{held} = {held} - {held_amount}"))
                    .set(format!("{bal} = {bal} + {refund}"))
                    .set(format!("{spent} = {spent} + {charged}"));
            }
            let record = encode(&RunRecord::new(org, run_id, settlement.clone()))?;
            let mut puts = vec![encode(&usage)?];
            if hold.bucket == Bucket::Credits && settle.charged_cents > 0 {
                let mut entry = LedgerEntry::new(
                    org,
                    LedgerKind::Consume,
                    -settle.charged_cents,
                    format!("commit-{run_id}"),
                    format!("workflow run {run_id} ({:?})", hold.kind).to_lowercase(),
                    "quota-engine",
                    now,
                );
                entry.run_id = Some(run_id.to_owned());
                puts.push(encode(&entry)?);
            }
            if self.settle_transaction(org, &u, puts, record).await? {
                self.remember(&applied(&account, run_id, &settlement, settle.refund_cents));
                tracing::info!(org = %org, run_id, bucket = ?hold.bucket, charged_cents = settle.charged_cents, "run committed");
                return Ok(Committed { usage, created: true });
            }
            backoff(attempt).await;
        }
        Err(QuotaError::Contended)
    }

    /// Cancels a hold and returns exactly what it took. A repeat returns the first result.
    pub async fn release(
        &self,
        org: &OrganizationId,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Released, QuotaError> {
        self.finish_release(org, run_id, Outcome::Released, now).await
    }

    /// Releases one expired hold (the sweeper's step). A hold renewed by a heartbeat in the
    /// meantime is left alone.
    pub async fn expire_hold(
        &self,
        org: &OrganizationId,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Released, QuotaError> {
        self.finish_release(org, run_id, Outcome::Expired, now).await
    }

    async fn finish_release(
        &self,
        org: &OrganizationId,
        run_id: &str,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<Released, QuotaError> {
        for attempt in 0..MAX_ATTEMPTS {
            let account = self.get_account(org).await?.ok_or_else(|| QuotaError::NotFound(run_id.to_owned()))?;
            let Some(hold) = account.holds.get(run_id).cloned() else {
                return match self.run_record(org, run_id).await? {
                    // Releasing what already expired has the effect asked for: say how it ended.
                    Some(record)
                        if record.settlement.outcome == outcome
                            || (outcome == Outcome::Released && record.settlement.outcome == Outcome::Expired) =>
                    {
                        Ok(Released { settlement: record.settlement, created: false })
                    }
                    Some(record) => Err(QuotaError::AlreadySettled {
                        run_id: run_id.to_owned(),
                        outcome: record.settlement.outcome,
                    }),
                    None => Err(QuotaError::NotFound(run_id.to_owned())),
                };
            };
            if outcome == Outcome::Expired && hold.expires_at > now.timestamp() {
                return Err(QuotaError::NotFound(run_id.to_owned()));
            }
            let settlement = Settlement { outcome, at: now, hold: hold.clone(), charged_cents: 0, excess_cents: 0 };
            let mut u = settle_update(&account, run_id, &settlement, now);
            match hold.bucket {
                Bucket::Free => {
                    return_unit(&mut u, ("free_period", &account.free_period), "free_remaining", "+", &hold.period)
                }
                Bucket::Subscription => {
                    return_unit(&mut u, ("usage_period", &account.usage_period), "period_used", "-", &hold.period)
                }
                Bucket::Credits => {
                    let (bal, held, amt) =
                        (u.name("credit_balance_cents"), u.name("credit_held_cents"), u.num(hold.amount_cents));
                    u.set(format!("{bal} = {bal} + {amt}")).set(format!("{held} = {held} - {amt}"));
                }
                Bucket::Overage | Bucket::Unlimited => {}
            }
            if outcome == Outcome::Expired {
                let (holds, run, expires, now_secs) =
                    (u.name("holds"), u.name(run_id), u.name("expires_at"), u.num(now.timestamp()));
                u.require(format!("{holds}.{run}.{expires} <= {now_secs}"));
            }
            let record = encode(&RunRecord::new(org, run_id, settlement.clone()))?;
            if self.settle_transaction(org, &u, Vec::new(), record).await? {
                self.remember(&applied(&account, run_id, &settlement, hold.amount_cents));
                tracing::info!(org = %org, run_id, outcome = outcome.as_str(), bucket = ?hold.bucket, "hold released");
                return Ok(Released { settlement, created: true });
            }
            backoff(attempt).await;
        }
        Err(QuotaError::Contended)
    }

    /// Writes a settlement: the account update plus new items, all or nothing. `false` when
    /// the account changed since it was read (the caller re-reads and decides again).
    ///
    /// The run record is written unconditionally: a run id reused after its settled mark
    /// expired is a new run, and its record replaces the old one. Everything else must be new;
    /// the update's condition already makes the whole settlement happen once per hold.
    async fn settle_transaction(
        &self,
        org: &OrganizationId,
        u: &UpdateExpr,
        new_items: Vec<Item>,
        run_record: Item,
    ) -> Result<bool, QuotaError> {
        let mut items = vec![TransactWriteItem::builder().update(self.update_item(org, u)?).build()];
        for item in new_items {
            items.push(TransactWriteItem::builder().put(self.put_new(item)?).build());
        }
        let record = Put::builder()
            .table_name(self.table())
            .set_item(Some(run_record))
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })?;
        items.push(TransactWriteItem::builder().put(record).build());
        match self.client().transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(err) if is_transaction_race(&err) => Ok(false),
            Err(err) => Err(StoreError::from_sdk("TransactWriteItems", err).into()),
        }
    }

    /// Why a run has no open hold: how it was settled, or that it was never reserved.
    async fn no_open_hold(&self, org: &OrganizationId, run_id: &str) -> Result<QuotaError, StoreError> {
        Ok(match self.run_record(org, run_id).await? {
            Some(record) => {
                QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome: record.settlement.outcome }
            }
            None => QuotaError::NotFound(run_id.to_owned()),
        })
    }

    pub async fn run_record(&self, org: &OrganizationId, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.get_item(keys::Key { pk: keys::org_partition(org), sk: RunRecord::sort_key(run_id) }).await
    }

    /// Organizations with at least one hold that expired at or before `now`, and those holds.
    pub async fn expired_holds(&self, now: DateTime<Utc>) -> Result<Vec<(OrganizationId, String)>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .index_name("GSI2")
                .key_condition_expression("GSI2PK = :pk")
                .filter_expression("size(holds) > :zero")
                .expression_attribute_values(":pk", AttributeValue::S(HOLDS_INDEX_PK.into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("Query", e))?;
            for item in page.items.unwrap_or_default() {
                let key = keys::Key { pk: "GSI2".into(), sk: HOLDS_INDEX_PK.into() };
                let account: Account = decode(&key, item)?;
                for (run_id, hold) in &account.holds {
                    if hold.expires_at <= now.timestamp() {
                        found.push((account.organization_id.clone(), run_id.clone()));
                    }
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    pub async fn usage_record(
        &self,
        org: &OrganizationId,
        hold: &Hold,
        run_id: &str,
    ) -> Result<Option<UsageRecord>, StoreError> {
        self.get_item(keys::Key { pk: keys::org_partition(org), sk: UsageRecord::sort_key(hold, run_id) }).await
    }

    async fn conditional_update(&self, org: &OrganizationId, u: &UpdateExpr) -> Result<Written<Account>, StoreError> {
        let key = keys::account(org);
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key)))
            .update_expression(u.update_expression())
            .set_condition_expression(u.condition_expression())
            .set_expression_attribute_names(u.names())
            .set_expression_attribute_values(u.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let account: Account = decode(&key, out.attributes.unwrap_or_default())?;
                self.remember(&account);
                Ok(Written::Done(account))
            }
            Err(SdkError::ServiceError(service))
                if matches!(service.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                let UpdateItemError::ConditionalCheckFailedException(failed) = service.into_err() else {
                    unreachable!()
                };
                let current: Option<Account> = failed.item.map(|item| decode(&key, item)).transpose()?;
                if let Some(account) = &current {
                    self.remember(account);
                }
                Ok(Written::ConditionFailed(current))
            }
            Err(err) => Err(StoreError::from_sdk("UpdateItem", err)),
        }
    }

    fn update_item(&self, org: &OrganizationId, u: &UpdateExpr) -> Result<Update, StoreError> {
        Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression(u.update_expression())
            .set_condition_expression(u.condition_expression())
            .set_expression_attribute_names(u.names())
            .set_expression_attribute_values(u.values())
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })
    }

    fn put_new(&self, item: Item) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() })
    }

    fn recall(&self, org: &OrganizationId) -> Option<Account> {
        self.hints.lock().unwrap_or_else(|p| p.into_inner()).get(org.as_str()).cloned()
    }

    fn remember(&self, account: &Account) {
        let mut hints = self.hints.lock().unwrap_or_else(|p| p.into_inner());
        // A hint is only a first guess; forgetting them all is always safe.
        if hints.len() >= 4096 {
            hints.clear();
        }
        hints.insert(account.organization_id.as_str().to_owned(), account.clone());
    }
}

/// The common part of settling a hold: remove it, leave a settled mark (pruning old ones),
/// and require that the hold is still the one that was read.
fn settle_update(account: &Account, run_id: &str, settlement: &Settlement, now: DateTime<Utc>) -> UpdateExpr {
    let mut u = UpdateExpr::new();
    let (holds, settled, run, created) = (u.name("holds"), u.name("settled"), u.name(run_id), u.name("created_at"));
    let mut mark = HashMap::new();
    mark.insert("outcome".to_owned(), AttributeValue::S(settlement.outcome.as_str().to_owned()));
    mark.insert("at".to_owned(), AttributeValue::N(now.timestamp().to_string()));
    let mark = u.value(AttributeValue::M(mark));
    let created_value = u.str(timestamp(settlement.hold.created_at));
    let (updated, version, now_value, one) = (u.name("updated_at"), u.name("version"), u.str(timestamp(now)), u.num(1));
    u.remove(format!("{holds}.{run}"))
        .set(format!("{settled}.{run} = {mark}"))
        .set(format!("{updated} = {now_value}"))
        .add(format!("{version} {one}"));
    for old_run in quota::marks_to_prune(&account.settled, now).iter().filter(|r| r.as_str() != run_id) {
        let old = u.name(old_run);
        u.remove(format!("{settled}.{old}"));
    }
    u.require(format!("{holds}.{run}.{created} = {created_value}"));
    u
}

/// Gives one unit back to a per-period counter (`+` for a remaining count, `-` for a used
/// count), but only into the period it was taken from: a unit from a month that has ended is
/// not returned into the new one. The condition pins the period the decision was made on.
fn return_unit(u: &mut UpdateExpr, (period_attr, current): (&str, &str), counter: &str, op: &str, taken_in: &str) {
    let (period, count, taken) = (u.name(period_attr), u.name(counter), u.str(taken_in));
    if current == taken_in {
        let one = u.num(1);
        u.set(format!("{count} = {count} {op} {one}")).require(format!("{period} = {taken}"));
    } else {
        u.require(format!("{period} <> {taken}"));
    }
}

/// The account as a settlement leaves it, worked out locally: only a first guess for the
/// next reservation in this process, which DynamoDB's conditions correct if it is wrong.
fn applied(account: &Account, run_id: &str, settlement: &Settlement, credit_back: Cents) -> Account {
    let mut next = account.clone();
    let hold = &settlement.hold;
    next.holds.remove(run_id);
    next.settled
        .insert(run_id.to_owned(), quota::SettledMark { outcome: settlement.outcome, at: settlement.at.timestamp() });
    match (settlement.outcome, hold.bucket) {
        (_, Bucket::Credits) => {
            next.credit_held_cents -= hold.amount_cents;
            next.credit_balance_cents += credit_back;
        }
        (Outcome::Released | Outcome::Expired, Bucket::Free) if next.free_period == hold.period => {
            next.free_remaining += 1
        }
        (Outcome::Released | Outcome::Expired, Bucket::Subscription) if next.usage_period == hold.period => {
            next.period_used = next.period_used.saturating_sub(1)
        }
        _ => {}
    }
    next
}

fn is_transaction_race(err: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .any(|r| matches!(r.code(), Some("ConditionalCheckFailed") | Some("TransactionConflict"))),
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
        _ => false,
    }
}

/// What an account the store has never seen looks like; used as the first guess.
fn fresh_account(org: &OrganizationId, catalog: &Catalog, now: DateTime<Utc>) -> Account {
    Account::new_free(org, now, catalog.free_workflows_per_month(), catalog.free_tier.clone())
}

/// Jittered exponential backoff: up to 2, 4, 8 … 64 ms, so racing writers spread out.
async fn backoff(attempt: u32) {
    let ceiling = 2u64 << attempt.min(5);
    tokio::time::sleep(StdDuration::from_millis(fastrand::u64(1..=ceiling))).await;
}
