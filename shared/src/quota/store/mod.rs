//! Reservations: reserve and heartbeat here, settling in [`settle`], finding expired holds
//! in [`sweep`], the monthly free-quota reset in [`reset`].
//!
//! # Where a hold lives
//! - Tiers with a concurrency limit (or that take from a bucket): in the account item's
//!   `holds` map, so one conditional `UpdateItem` checks the limit, takes from the bucket and
//!   records the hold. The map is bounded by the limit (or [`MAX_HOLDS_ON_ACCOUNT`]).
//! - Tiers with no limit that take nothing (enterprise, byo): in the run's own item
//!   (`RUN#<run_id>` with `open`), so the account item never grows with the number of runs.
//!
//! # Deciding in one write
//! The decision is made from the best knowledge at hand and the write's condition re-checks
//! it; when the condition fails DynamoDB returns the current item (`ALL_OLD`), the decision
//! is remade from it, and the write retried with jittered backoff. Nothing is granted that
//! the item does not have at the instant of the write, and a refusal is only given on state
//! DynamoDB returned with a consistent read or a failed condition.
//!
//! The best knowledge is the last state this process saw of the organization: one write.
//! A process that has not seen it (most reserves on Lambda, where sandboxes come and go)
//! first reads the account together with the run record in one eventually consistent
//! `BatchGetItem`, then writes once ([`FirstAttempt`]; the fleet benchmark measured it
//! cheaper than writing on a fresh-account guess, whose failed condition is billed).
//!
//! # A run id is charged at most once
//! The run's record (`RUN#<run_id>`, kept 90 days) is read alongside the first write (the
//! read adds no latency and no write), or with the account before it. If the run was
//! settled before, the caller gets the first settlement and a hold just granted is given
//! back. Commit and expiry check the same record, so even a reserve that raced past the
//! read is never charged.

mod reset;
mod settle;
mod sweep;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use chrono::{DateTime, Duration, Utc};

pub use self::sweep::{SWEEP_INDEX, SWEEP_SHARDS, SweepEntry};
use crate::accounts::rules::Account;
use crate::quota::rules::{self as quota, Decision, ExceedsHold, Grant, Hold, Outcome, Refusal, ReserveRequest, Take};
use crate::store::conditional::Checked;
use crate::store::expr::UpdateExpr;
use crate::store::{
    Item, Retry, Store, StoreError, decode, encode, jittered_pause, key_item, keys, retrying, timestamp,
};
use crate::usage::rules::{RunRecord, UsageRecord};
use crate::{catalog::rules::Catalog, ids::OrganizationId};

/// Attempts before a contended operation gives up and asks the caller to retry.
const MAX_ATTEMPTS: u32 = 12;
/// Open holds an account item may carry when its tier sets no concurrency limit but takes
/// from a bucket: keeps every map on the account item bounded.
pub const MAX_HOLDS_ON_ACCOUNT: u32 = 64;

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
    pub settlement: quota::Settlement,
    pub created: bool,
}

/// The state a reserve decides its first attempt on; `None` is a fresh free account.
struct Basis {
    account: Option<Account>,
    /// Read strongly consistent just now, so a refusal may be given on it.
    confirmed: bool,
}

impl Basis {
    fn guess(account: Option<Account>) -> Self {
        Self { account, confirmed: false }
    }
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
        let known = match (self.recall(org), self.first_attempt) {
            (Some(known), _) => Some(known),
            (None, FirstAttempt::Guess) => None,
            (None, read) => {
                let consistent = read == FirstAttempt::ConsistentRead;
                return self.reserve_after_reading(org, request, catalog, now, ttl, consistent).await;
            }
        };
        // Run items carry their own history: their conditional put needs no extra read.
        if known.as_ref().is_some_and(|a| holds_in_run_items(a, catalog)) {
            return self.reserve_attempts(org, request, catalog, now, ttl, Basis::guess(known)).await;
        }
        let (history, reserved) = tokio::join!(
            self.run_record_eventually(org, &request.run_id),
            self.reserve_attempts(org, request, catalog, now, ttl, Basis::guess(known))
        );
        let Some(settlement) = history?.and_then(|record| record.settlement) else {
            return reserved;
        };
        // A late retry of a settled run: whatever was just taken goes back.
        match reserved {
            Ok(Reserved { hold, created: true }) if !hold.is_same(&settlement.hold) => {
                self.give_back_duplicate(org, &request.run_id, &hold, now).await?;
            }
            Err(QuotaError::Store(err)) => return Err(err.into()),
            _ => {}
        }
        Err(settled_before(org, &request.run_id, settlement.outcome))
    }

    /// The first reserve of an organization this process has no state for: the account and
    /// the run's record in one request, then the write decided on them. A run settled
    /// earlier is answered before anything is taken.
    async fn reserve_after_reading(
        &self,
        org: &OrganizationId,
        request: &ReserveRequest,
        catalog: &Catalog,
        now: DateTime<Utc>,
        ttl: Duration,
        consistent: bool,
    ) -> Result<Reserved, QuotaError> {
        let (account, history) = self.account_and_run_record(org, &request.run_id, consistent).await?;
        if let Some(settlement) = history.and_then(|record| record.settlement) {
            return Err(settled_before(org, &request.run_id, settlement.outcome));
        }
        let basis = match account {
            Some(account) => Basis { account: Some(account), confirmed: consistent },
            // A new organization (or one created less than a replication lag ago).
            None => Basis { account: Some(self.account_or_create(org, catalog, now).await?), confirmed: true },
        };
        self.reserve_attempts(org, request, catalog, now, ttl, basis).await
    }

    /// The account item and the run's record in one `BatchGetItem` (each item is billed on
    /// its own, so this costs what two reads cost, in one round trip). Keys DynamoDB leaves
    /// unprocessed, as it does when throttled, are read one by one.
    async fn account_and_run_record(
        &self,
        org: &OrganizationId,
        run_id: &str,
        consistent: bool,
    ) -> Result<(Option<Account>, Option<RunRecord>), StoreError> {
        let (account_key, record_key) = (keys::account(org), run_key(org, run_id));
        let wanted = KeysAndAttributes::builder()
            .keys(key_item(&account_key))
            .keys(key_item(&record_key))
            .consistent_read(consistent)
            .build()
            .map_err(|e| StoreError::Dynamo { operation: "BatchGetItem", message: e.to_string() })?;
        let out = retrying(|| async {
            self.client()
                .batch_get_item()
                .request_items(self.table(), wanted.clone())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("BatchGetItem", e))
        })
        .await?;
        let (mut account, mut record) = (None, None);
        for item in out.responses.and_then(|mut r| r.remove(self.table())).unwrap_or_default() {
            if string_attr(&item, "SK") == account_key.sk {
                account = Some(decode(&account_key, item)?);
            } else {
                record = Some(decode(&record_key, item)?);
            }
        }
        let unprocessed = out.unprocessed_keys.and_then(|mut u| u.remove(self.table())).map(|k| k.keys);
        for key in unprocessed.unwrap_or_default() {
            if string_attr(&key, "SK") == account_key.sk {
                account = self.get_account(org).await?;
            } else {
                record = self.run_record_eventually(org, run_id).await?;
            }
        }
        if let Some(account) = &account {
            self.remember(account);
        }
        Ok((account, record))
    }

    async fn reserve_attempts(
        &self,
        org: &OrganizationId,
        request: &ReserveRequest,
        catalog: &Catalog,
        now: DateTime<Utc>,
        ttl: Duration,
        basis: Basis,
    ) -> Result<Reserved, QuotaError> {
        // A remembered state (or an eventually consistent read) is only a guess: a grant
        // made from it is re-checked by the write, but a refusal is only given on state
        // DynamoDB has just returned with a strongly consistent answer.
        let (mut known, mut guessing) = (basis.account, !basis.confirmed);
        for attempt in 0..MAX_ATTEMPTS {
            let account = known.clone().unwrap_or_else(|| fresh_account(org, catalog, now));
            match quota::decide(&account, request, catalog, now, ttl) {
                // A run item's put cannot re-check the account, so decide on what DynamoDB says.
                Decision::Grant(grant) if in_run_item(&grant) => {
                    if guessing {
                        known = Some(self.account_or_create(org, catalog, now).await?);
                        guessing = false;
                        continue;
                    }
                    return self.open_run_item(org, &request.run_id, &account.id, grant.hold).await;
                }
                Decision::Grant(grant) => match self.write_grant(org, &request.run_id, &grant, now).await? {
                    Written::Done(_) => {
                        return Ok(Reserved { hold: grant.hold, created: true });
                    }
                    Written::ConditionFailed(Some(current)) => {
                        if !guessing {
                            jittered_pause(attempt).await;
                        }
                        known = Some(current);
                        guessing = false;
                    }
                    Written::ConditionFailed(None) => {
                        known = Some(self.account_or_create(org, catalog, now).await?);
                        guessing = false;
                    }
                },
                // Decisions other than a grant are only trusted on a state DynamoDB returned.
                _ if guessing => {
                    guessing = false;
                    known = Some(self.account_or_create(org, catalog, now).await?);
                }
                Decision::Existing(hold) => {
                    return Ok(Reserved { hold, created: false });
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
                        match self.expire_hold(org, &run_id, now).await {
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

    async fn account_or_create(
        &self,
        org: &OrganizationId,
        catalog: &Catalog,
        now: DateTime<Utc>,
    ) -> Result<Account, StoreError> {
        self.get_or_create_account(fresh_account(org, catalog, now)).await
    }

    async fn write_grant(
        &self,
        org: &OrganizationId,
        run_id: &str,
        grant: &Grant,
        now: DateTime<Utc>,
    ) -> Result<Written<Account>, StoreError> {
        let mut u = UpdateExpr::new();
        let (holds, run) = (u.name("holds"), u.name(run_id));
        let hold = u.value(serde_dynamo::to_attribute_value(&grant.hold).map_err(StoreError::Encode)?);
        let (status, tier, updated, version) =
            (u.name("status"), u.name("tier"), u.name("updated_at"), u.name("version"));
        let (active, tier_value, now_value, one) =
            (u.str("active"), u.str(grant.tier.as_str()), u.str(timestamp(now)), u.num(1));
        // Listed for the sweeper once; an account already listed keeps its entry unchanged,
        // so this write does not touch the index.
        let (sweep_pk, sweep_sk) = (u.name(sweep::INDEX_PK), u.name(sweep::INDEX_SK));
        let (shard, due) = (u.str(sweep::shard(org)), u.str(sweep::due(grant.hold.expires_at)));
        u.set(format!("{holds}.{run} = {hold}"))
            .set(format!("{updated} = {now_value}"))
            .set(format!("{sweep_pk} = if_not_exists({sweep_pk}, {shard})"))
            .set(format!("{sweep_sk} = if_not_exists({sweep_sk}, {due})"))
            .add(format!("{version} {one}"));
        u.require("attribute_exists(PK)".into())
            .require(format!("attribute_not_exists({holds}.{run})"))
            .require(format!("{status} = {active}"))
            .require(format!("{tier} = {tier_value}"));
        let (blocked, month) = (u.name("budget_blocked_period"), u.str(&grant.month));
        u.require(format!("attribute_not_exists({blocked}) OR {blocked} <> {month}"));
        let limit = u.num(grant.agents_limit.unwrap_or(MAX_HOLDS_ON_ACCOUNT));
        u.require(format!("size({holds}) < {limit}"));
        match &grant.take {
            Take::Free { period } => {
                let (fp, fr, p) = (u.name("free_period"), u.name("free_remaining"), u.str(period));
                u.set(format!("{fr} = {fr} - {one}")).require(format!("{fp} = {p}")).require(format!("{fr} >= {one}"));
            }
            Take::FreeNewMonth { period, remaining_after } => {
                reset::start_free_period(&mut u, period, *remaining_after)
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
                u.set(format!("{up} = {p}")).set(format!("{used} = {one}")).require(format!("{up} < {p}"));
            }
            Take::Overage => {
                let (pm, yes) = (u.name("has_payment_method"), u.value(AttributeValue::Bool(true)));
                u.require(format!("{pm} = {yes}"));
            }
            Take::Nothing => {}
        }
        let passed = &grant.passed_over;
        if let Some(month) = &passed.free_used_up {
            let (fp, fr, m) = (u.name("free_period"), u.name("free_remaining"), u.str(month));
            u.require(format!("{fp} = {m}")).require(format!("{fr} < {one}"));
        }
        if let Some(amount) = passed.credits_below {
            let (bal, amt) = (u.name("credit_balance_cents"), u.num(amount));
            u.require(format!("{bal} < {amt}"));
        }
        if let Some((period, limit)) = &passed.subscription_used_up {
            let (up, used, p, lim) = (u.name("usage_period"), u.name("period_used"), u.str(period), u.num(*limit));
            u.require(format!("{up} = {p}")).require(format!("{used} >= {lim}"));
        }
        self.conditional_update(org, &u).await
    }

    /// A hold in its own run item: one conditional put that also keeps run ids unique.
    async fn open_run_item(
        &self,
        org: &OrganizationId,
        run_id: &str,
        account_id: &str,
        hold: Hold,
    ) -> Result<Reserved, QuotaError> {
        let mut item = encode(&RunRecord::opened(org, run_id, account_id, hold.clone()))?;
        item.insert(sweep::INDEX_PK.into(), AttributeValue::S(sweep::shard(org)));
        item.insert(sweep::INDEX_SK.into(), AttributeValue::S(sweep::due(hold.expires_at)));
        let Some(existing) = self.put_if_absent(&item).await? else {
            return Ok(Reserved { hold, created: true });
        };
        let existing: RunRecord = decode(&run_key(org, run_id), existing)?;
        match (existing.open, existing.settlement) {
            (_, Some(settlement)) => {
                Err(QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome: settlement.outcome })
            }
            (Some(open), None) => Ok(Reserved { hold: open, created: false }),
            (None, None) => Err(StoreError::Dynamo {
                operation: "PutItem",
                message: format!("run record {run_id} has neither a hold nor a settlement"),
            }
            .into()),
        }
    }

    /// Extends a hold's expiry to `now + ttl`.
    pub async fn heartbeat(
        &self,
        org: &OrganizationId,
        run_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Hold, QuotaError> {
        let new_expiry = (now + ttl).timestamp();
        let mut u = UpdateExpr::new();
        let (holds, run, expires) = (u.name("holds"), u.name(run_id), u.name("e"));
        let expiry = u.num(new_expiry);
        u.set(format!("{holds}.{run}.{expires} = {expiry}")).require(format!("attribute_exists({holds}.{run})"));
        // Try where this process last saw the hold, so the usual heartbeat is one write.
        let in_map_first = self.recall(org).is_none_or(|a| a.holds.contains_key(run_id));
        if in_map_first && let Written::Done(account) = self.conditional_update(org, &u).await? {
            return account.holds.get(run_id).cloned().ok_or_else(|| QuotaError::NotFound(run_id.to_owned()));
        }
        if let Some(hold) = self.renew_run_item(org, run_id, new_expiry).await? {
            return Ok(hold);
        }
        if !in_map_first && let Written::Done(account) = self.conditional_update(org, &u).await? {
            return account.holds.get(run_id).cloned().ok_or_else(|| QuotaError::NotFound(run_id.to_owned()));
        }
        Err(self.no_open_hold(org, run_id).await?)
    }

    /// Extends an open run item; `None` when the run has no open item.
    async fn renew_run_item(
        &self,
        org: &OrganizationId,
        run_id: &str,
        new_expiry: i64,
    ) -> Result<Option<Hold>, StoreError> {
        let mut u = UpdateExpr::new();
        let (open, expires, sweep_sk) = (u.name("open"), u.name("e"), u.name(sweep::INDEX_SK));
        let (expiry, due) = (u.num(new_expiry), u.str(sweep::due(new_expiry)));
        u.set(format!("{open}.{expires} = {expiry}"))
            .set(format!("{sweep_sk} = {due}"))
            .require(format!("attribute_exists({open})"));
        let key = run_key(org, run_id);
        match self.update_item_returning(&key, &u).await? {
            Some(item) => Ok(decode::<RunRecord>(&key, item)?.open),
            None => Ok(None),
        }
    }

    /// Why a run has no open hold: how it was settled, or that it was never reserved.
    async fn no_open_hold(&self, org: &OrganizationId, run_id: &str) -> Result<QuotaError, StoreError> {
        Ok(match self.run_record(org, run_id).await?.and_then(|r| r.settlement) {
            Some(settlement) => QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome: settlement.outcome },
            None => QuotaError::NotFound(run_id.to_owned()),
        })
    }

    /// Open holds kept in run items (tiers without a concurrency limit), from one read of
    /// the organization's run items (1 MB at most); `false` when more run items remain.
    pub async fn open_run_holds(&self, org: &OrganizationId) -> Result<(Vec<(String, Hold)>, bool), StoreError> {
        let out = retrying(|| async {
            self.client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :run)")
                .filter_expression("attribute_exists(#open)")
                .expression_attribute_names("#open", "open")
                .expression_attribute_values(":pk", AttributeValue::S(keys::org_partition(org)))
                .expression_attribute_values(":run", AttributeValue::S("RUN#".into()))
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("Query", e))
        })
        .await?;
        let complete = out.last_evaluated_key.is_none();
        let mut holds = Vec::new();
        for item in out.items.unwrap_or_default() {
            let sk = item.get("SK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let record: RunRecord = decode(&keys::Key { pk: keys::org_partition(org), sk }, item)?;
            if let Some(hold) = record.open {
                holds.push((record.run_id, hold));
            }
        }
        Ok((holds, complete))
    }

    pub async fn run_record(&self, org: &OrganizationId, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.get_item(run_key(org, run_id)).await
    }

    /// The run record as an eventually consistent read (half the cost): enough to catch a
    /// retry of a run settled earlier; a settlement younger than the replication lag is
    /// caught by commit and expiry instead.
    async fn run_record_eventually(&self, org: &OrganizationId, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let key = run_key(org, run_id);
        let out = retrying(|| async {
            self.client()
                .get_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("GetItem", e))
        })
        .await?;
        out.item.map(|item| decode(&key, item)).transpose()
    }

    pub async fn usage_record(
        &self,
        org: &OrganizationId,
        hold: &Hold,
        run_id: &str,
    ) -> Result<Option<UsageRecord>, StoreError> {
        self.get_item(keys::Key { pk: keys::org_partition(org), sk: UsageRecord::sort_key(hold, run_id) }).await
    }

    /// One conditional update of the account item, retried on transient failures. A failed
    /// condition hands back the item as it is (`ALL_OLD`), so no extra read is needed.
    async fn conditional_update(&self, org: &OrganizationId, u: &UpdateExpr) -> Result<Written<Account>, StoreError> {
        let key = keys::account(org);
        match self.update_checked(self.update_request(&key, u), Retry::Transient).await? {
            Checked::Written(item) => {
                let account: Account = decode(&key, item)?;
                self.remember(&account);
                Ok(Written::Done(account))
            }
            Checked::Refused(old) => {
                let current: Option<Account> = old.map(|item| decode(&key, item)).transpose()?;
                if let Some(account) = &current {
                    self.remember(account);
                }
                Ok(Written::ConditionFailed(current))
            }
        }
    }

    /// A conditional update of any item, returning the new item, or `None` when the
    /// condition failed.
    async fn update_item_returning(&self, key: &keys::Key, u: &UpdateExpr) -> Result<Option<Item>, StoreError> {
        Ok(match self.update_checked(self.update_request(key, u), Retry::Transient).await? {
            Checked::Written(item) => Some(item),
            Checked::Refused(_) => None,
        })
    }

    /// The update `u` of the item at `key`, answering the item as it is after it.
    fn update_request(&self, key: &keys::Key, u: &UpdateExpr) -> UpdateItemFluentBuilder {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .update_expression(u.update_expression())
            .set_condition_expression(u.condition_expression())
            .set_expression_attribute_names(u.names())
            .set_expression_attribute_values(u.values())
            .return_values(ReturnValue::AllNew)
    }

    /// Puts a new item; `Some(existing)` instead when one with its key already exists. A put
    /// retried after a lost response finds its own item, which callers treat as existing.
    async fn put_if_absent(&self, item: &Item) -> Result<Option<Item>, StoreError> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(PK)");
        match self.put_checked(put, Retry::Transient).await? {
            Checked::Written(()) => Ok(None),
            Checked::Refused(Some(existing)) => Ok(Some(existing)),
            // Emulators that ignore ReturnValuesOnConditionCheckFailure: read it.
            Checked::Refused(None) => {
                let key = keys::Key { pk: string_attr(item, "PK"), sk: string_attr(item, "SK") };
                Ok(Some(self.get_raw_item(&key).await?.unwrap_or_default()))
            }
        }
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

/// How a reserve starts for an organization the process has no state for: a cold Lambda
/// sandbox, or one that has not served this organization yet. On Lambda most reserves are
/// such first reserves; the fleet benchmark (`make bench`, README) measures the three.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FirstAttempt {
    /// Write as if the account were a fresh free one. One write when it is; for any other
    /// account the condition fails (a write unit billed for nothing) and the write is
    /// remade from the item DynamoDB returns.
    Guess,
    /// Read the account with the run record (one eventually consistent `BatchGetItem`, half
    /// a read unit each), then write once. A refusal is confirmed by a consistent read.
    #[default]
    EventualRead,
    /// The same read, strongly consistent: twice the read units, no confirming read.
    ConsistentRead,
}

fn settled_before(org: &OrganizationId, run_id: &str, outcome: Outcome) -> QuotaError {
    tracing::info!(org = %org, run_id = %run_id, outcome = outcome.as_str(), "reserve retried for a settled run");
    QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome }
}

fn run_key(org: &OrganizationId, run_id: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: RunRecord::sort_key(run_id) }
}

fn string_attr(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// Whether a grant's hold goes into its own run item rather than the account's map.
fn in_run_item(grant: &Grant) -> bool {
    grant.agents_limit.is_none() && grant.take == Take::Nothing
}

/// Whether this account's tier keeps holds in run items (no concurrency limit, no quota).
fn holds_in_run_items(account: &Account, catalog: &Catalog) -> bool {
    let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
    let limits = quota::limits_for(tier);
    limits.agents.is_none() && limits.workflows_per_period.is_none()
}

/// What an account the store has never seen looks like; used as the first guess.
fn fresh_account(org: &OrganizationId, catalog: &Catalog, now: DateTime<Utc>) -> Account {
    Account::new_free(org, now, catalog.free_workflows_per_month(), catalog.free_tier.clone())
}
