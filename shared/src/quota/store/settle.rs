//! Settling a hold — commit, release, expiry — in idempotent steps rather than one
//! transaction on the hot account item (a transaction costs twice the write units and, on
//! AWS, conflicts with every concurrent reserve on that item):
//!
//! 1. read the account and find the hold;
//! 2. record the decision in the run record (`RUN#<run_id>`, put if absent): the first
//!    decision for a hold wins, and a later one (a commit racing the sweeper) adopts it;
//! 3. write what the decision creates (usage record, ledger entry), each put if absent (the
//!    usage record in one small transaction with the `ADD` to its day's run aggregate,
//!    `store::daily`, so the chart counts each run once);
//! 4. apply it to the account: remove the hold and move the money, conditional on the hold
//!    still being there, so it happens once.
//!
//! A crash after step 2 leaves the hold on the account beside a decided record; the caller's
//! retry, or the sweeper once the hold expires, completes steps 3 and 4 from the record.
//! Holds kept in run items (tiers without limits) settle in one small transaction of the run
//! item and its usage record; the account item is not touched.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::{MAX_ATTEMPTS, QuotaError, Written, run_key, sweep};
use crate::accounts::rules::Account;
use crate::ids::OrganizationId;
use crate::money::Cents;
use crate::quota::rules::{self as quota, Bucket, Excess, Hold, Outcome, Reporter, Settlement};
use crate::store::expr::UpdateExpr;
use crate::store::{Retry, Store, StoreError, decode, encode, jittered_pause, key_item, timestamp};
use crate::usage::rules::{LedgerEntry, LedgerKind, RunRecord, UsageRecord};

pub use super::{Committed, Released};

/// What the caller asks for.
enum Intent<'a> {
    Commit { actual: Option<Cents>, reporter: Reporter<'a>, details: Option<serde_json::Value> },
    Release,
    Expire,
}

impl Intent<'_> {
    fn outcome(&self) -> Outcome {
        match self {
            Self::Commit { .. } => Outcome::Committed,
            Self::Release => Outcome::Released,
            Self::Expire => Outcome::Expired,
        }
    }
}

/// How a run ended, as the record in force says, and whether this call decided it.
struct Ended {
    record: RunRecord,
    settlement: Settlement,
    /// The stored usage record, when this call already made sure of it.
    usage: Option<UsageRecord>,
    decided_here: bool,
}

impl Store {
    /// Settles a hold with the run's actual cost and writes its usage record. A repeat, at
    /// any later time while the run record lives, returns the first result.
    pub async fn commit<'a>(
        &self,
        org: &OrganizationId,
        run_id: &str,
        actual_cost: Option<Cents>,
        reporter: impl Into<Reporter<'a>>,
        details: Option<serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<Committed, QuotaError> {
        let intent = Intent::Commit { actual: actual_cost, reporter: reporter.into(), details };
        let ended = self.settle_run(org, run_id, intent, now).await?;
        if ended.settlement.outcome != Outcome::Committed {
            return Err(QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome: ended.settlement.outcome });
        }
        let usage = match ended.usage {
            Some(usage) => usage,
            None => self.stored_usage(org, run_id, &ended.settlement.hold, &ended.record).await?,
        };
        if ended.decided_here {
            tracing::info!(org = %org, run_id, bucket = ?ended.settlement.hold.bucket, charged_cents = ended.settlement.charged_cents, "run committed");
        }
        Ok(Committed { usage, created: ended.decided_here })
    }

    /// Cancels a hold and returns exactly what it took. A repeat returns the first result;
    /// releasing a hold that already expired answers with the expiry.
    pub async fn release(
        &self,
        org: &OrganizationId,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Released, QuotaError> {
        let ended = self.settle_run(org, run_id, Intent::Release, now).await?;
        match ended.settlement.outcome {
            Outcome::Released | Outcome::Expired => {
                Ok(Released { settlement: ended.settlement, created: ended.decided_here })
            }
            outcome => Err(QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome }),
        }
    }

    /// Releases one expired hold (the sweeper's step). A hold renewed by a heartbeat in the
    /// meantime is left alone; a commit that was decided but not completed is completed.
    pub async fn expire_hold(
        &self,
        org: &OrganizationId,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Released, QuotaError> {
        let ended = self.settle_run(org, run_id, Intent::Expire, now).await?;
        match ended.settlement.outcome {
            Outcome::Expired => Ok(Released { settlement: ended.settlement, created: ended.decided_here }),
            outcome => Err(QuotaError::AlreadySettled { run_id: run_id.to_owned(), outcome }),
        }
    }

    /// Decides and applies how a run ends. A decision is counted (`HoldsSettled`) where it is
    /// recorded, the one place every path (the routes, the usage queue, the sweep, a reserve
    /// freeing a slot) goes through, so each hold counts once, even if applying it is left to
    /// a retry.
    async fn settle_run(
        &self,
        org: &OrganizationId,
        run_id: &str,
        intent: Intent<'_>,
        now: DateTime<Utc>,
    ) -> Result<Ended, QuotaError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(account) = self.get_account(org).await? else {
                return self.settle_run_item(org, run_id, &intent, now).await;
            };
            let Some(hold) = account.holds.get(run_id).cloned() else {
                return self.settle_run_item(org, run_id, &intent, now).await;
            };
            if matches!(intent, Intent::Expire) && hold.expires_at > now.timestamp() {
                return Err(QuotaError::NotFound(run_id.to_owned()));
            }
            let excess = excess_for(&intent, &account);
            let (proposed, _) = propose(org, &account.id, run_id, &hold, &intent, excess, now)?;
            let (record, decided_here) = self.record_decision(org, run_id, &proposed).await?;
            if let (true, Some(settlement)) = (decided_here, &record.settlement) {
                crate::telemetry::metrics::hold_settled(settlement.outcome);
            }
            let Some(settlement) = record.settlement.clone() else {
                // The run also has an open run item (its tier changed while it ran): this map
                // hold is the duplicate; give it back and settle the run item.
                self.give_back_duplicate(org, run_id, &hold, now).await?;
                continue;
            };
            if !settlement.hold.is_same(&hold) {
                // This hold is a late duplicate of a run settled before: it is never charged.
                tracing::warn!(org = %org, run_id, "a second hold for a settled run was given back");
                self.give_back_duplicate(org, run_id, &hold, now).await?;
                return Ok(Ended { record, settlement, usage: None, decided_here: false });
            }
            let mut usage = None;
            if settlement.outcome == Outcome::Committed {
                let (stored, ledger) =
                    tokio::join!(self.ensure_usage(org, run_id, &record), self.ensure_ledger(org, run_id, &settlement));
                usage = Some(stored?);
                ledger?;
            }
            self.apply_to_account(org, account, run_id, &settlement, now).await?;
            return Ok(Ended { record, settlement, usage, decided_here });
        }
        Err(QuotaError::Contended)
    }

    /// Step 2: the first decision for a hold wins; `(record in force, whether it is ours)`.
    async fn record_decision(
        &self,
        org: &OrganizationId,
        run_id: &str,
        proposed: &RunRecord,
    ) -> Result<(RunRecord, bool), QuotaError> {
        match self.put_if_absent(&encode(proposed)?).await? {
            None => Ok((proposed.clone(), true)),
            Some(existing) => Ok((decode(&run_key(org, run_id), existing)?, false)),
        }
    }

    /// The usage record of a run committed earlier: read, and written from its run record
    /// only if a crash kept it from being written.
    async fn stored_usage(
        &self,
        org: &OrganizationId,
        run_id: &str,
        hold: &Hold,
        record: &RunRecord,
    ) -> Result<UsageRecord, QuotaError> {
        match self.usage_record(org, hold, run_id).await? {
            Some(usage) => Ok(usage),
            None => self.ensure_usage(org, run_id, record).await,
        }
    }

    /// Step 3 for commits: the usage record the decision names, written once.
    async fn ensure_usage(
        &self,
        org: &OrganizationId,
        run_id: &str,
        record: &RunRecord,
    ) -> Result<UsageRecord, QuotaError> {
        let Some(usage) = &record.usage else {
            return Err(StoreError::Dynamo {
                operation: "PutItem",
                message: format!("run record {run_id} of {org} was committed without a usage record"),
            }
            .into());
        };
        // Counted in its day's run aggregate in the same write, so only the first put counts.
        match self.put_usage_counted(usage).await? {
            None => Ok(usage.clone()),
            // The stored one is the truth (it may have been billed since).
            Some(stored) => {
                Ok(decode(&crate::store::keys::Key { pk: usage.pk.clone(), sk: usage.sk.clone() }, stored)?)
            }
        }
    }

    /// Step 3 for credit-paid commits: the ledger entry, keyed by the settlement, written once.
    async fn ensure_ledger(
        &self,
        org: &OrganizationId,
        run_id: &str,
        settlement: &Settlement,
    ) -> Result<(), QuotaError> {
        let hold = &settlement.hold;
        if hold.bucket != Bucket::Credits || settlement.charged_cents == 0 {
            return Ok(());
        }
        let mut entry = LedgerEntry::new(
            org,
            LedgerKind::Consume,
            -settlement.charged_cents,
            format!("commit-{run_id}-{}", hold.created_millis()),
            format!("workflow run {run_id} ({:?})", hold.kind).to_lowercase(),
            "quota-engine",
            settlement.at,
        );
        entry.id = format!("commit-{run_id}-{}", hold.created_millis());
        entry.run_id = Some(run_id.to_owned());
        self.put_if_absent(&encode(&entry)?).await?;
        Ok(())
    }

    /// Step 4: removes the hold and moves its money as the settlement says, once. Returns
    /// when the hold is gone, whoever removed it.
    async fn apply_to_account(
        &self,
        org: &OrganizationId,
        mut account: Account,
        run_id: &str,
        settlement: &Settlement,
        now: DateTime<Utc>,
    ) -> Result<(), QuotaError> {
        let hold = &settlement.hold;
        for attempt in 0..MAX_ATTEMPTS {
            let u = account_change(&account, run_id, settlement, now);
            match self.conditional_update(org, &u).await? {
                Written::Done(_) => {
                    tracing::info!(org = %org, run_id, outcome = settlement.outcome.as_str(), bucket = ?hold.bucket, "hold settled");
                    return Ok(());
                }
                Written::ConditionFailed(Some(current))
                    if current.holds.get(run_id).is_some_and(|h| h.is_same(hold)) =>
                {
                    // Still there: the period it returns a unit to moved on; decide again.
                    account = current;
                    jittered_pause(attempt).await;
                }
                Written::ConditionFailed(_) => return Ok(()),
            }
        }
        Err(QuotaError::Contended)
    }

    /// Gives back what a hold took without recording a settlement: for a hold that should
    /// never have been granted (a late retry of a run settled before).
    pub(crate) async fn give_back_duplicate(
        &self,
        org: &OrganizationId,
        run_id: &str,
        hold: &Hold,
        now: DateTime<Utc>,
    ) -> Result<(), QuotaError> {
        let Some(account) = self.get_account(org).await? else {
            return Ok(());
        };
        let settlement = Settlement {
            outcome: Outcome::Released,
            at: now,
            hold: hold.clone(),
            charged_cents: 0,
            excess_cents: 0,
            capped_cents: 0,
        };
        self.apply_to_account(org, account, run_id, &settlement, now).await
    }

    /// Settling a run that has no hold on the account: an open run item, or a run settled
    /// before (answered from its record), or no run at all.
    async fn settle_run_item(
        &self,
        org: &OrganizationId,
        run_id: &str,
        intent: &Intent<'_>,
        now: DateTime<Utc>,
    ) -> Result<Ended, QuotaError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(record) = self.run_record(org, run_id).await? else {
                return Err(QuotaError::NotFound(run_id.to_owned()));
            };
            if let Some(settlement) = record.settlement.clone() {
                return Ok(Ended { record, settlement, usage: None, decided_here: false });
            }
            let Some(hold) = record.open.clone() else {
                return Err(QuotaError::NotFound(run_id.to_owned()));
            };
            if matches!(intent, Intent::Expire) && hold.expires_at > now.timestamp() {
                return Err(QuotaError::NotFound(run_id.to_owned()));
            }
            let account_id = record.account_id.clone().unwrap_or_default();
            // Run items hold nothing to charge, so the account's state plays no part.
            let (proposed, settlement) = propose(org, &account_id, run_id, &hold, intent, Excess::Refuse, now)?;
            if self.close_run_item(org, run_id, &hold, &proposed, &settlement).await? {
                crate::telemetry::metrics::hold_settled(settlement.outcome);
                let usage = proposed.usage.clone();
                return Ok(Ended { record: proposed, settlement, usage, decided_here: true });
            }
        }
        Err(QuotaError::Contended)
    }

    /// Closes an open run item with its settlement, and writes a commit's usage record in the
    /// same transaction (two small per-run items; the account item is not involved).
    /// `false` when the item changed since it was read.
    async fn close_run_item(
        &self,
        org: &OrganizationId,
        run_id: &str,
        hold: &Hold,
        settled: &RunRecord,
        settlement: &Settlement,
    ) -> Result<bool, QuotaError> {
        let mut u = UpdateExpr::new();
        let (open, id, settlement_name, expires) =
            (u.name("open"), u.name("i"), u.name("settlement"), u.name("expires_at"));
        let (sweep_pk, sweep_sk) = (u.name(sweep::INDEX_PK), u.name(sweep::INDEX_SK));
        let settlement_value = u.value(serde_dynamo::to_attribute_value(settlement).map_err(StoreError::Encode)?);
        let (expires_value, id_value) = (u.num(settled.expires_at.unwrap_or_default()), u.num(hold.id));
        u.set(format!("{settlement_name} = {settlement_value}"))
            .set(format!("{expires} = {expires_value}"))
            .remove(open.clone())
            .remove(sweep_pk)
            .remove(sweep_sk)
            .require(format!("{open}.{id} = {id_value}"));
        if matches!(settlement.outcome, Outcome::Expired) {
            let (e, now_secs) = (u.name("e"), u.num(settlement.at.timestamp()));
            u.require(format!("{open}.{e} <= {now_secs}"));
        }
        if let Some(usage) = &settled.usage {
            let (usage_name, usage_value) =
                (u.name("usage"), u.value(serde_dynamo::to_attribute_value(usage).map_err(StoreError::Encode)?));
            u.set(format!("{usage_name} = {usage_value}"));
        }
        let Some(usage) = &settled.usage else {
            // Nothing else to write: one conditional update, not a transaction.
            let done = self.update_item_returning(&run_key(org, run_id), &u).await?.is_some();
            if done {
                tracing::info!(org = %org, run_id, outcome = settlement.outcome.as_str(), "run item settled");
            }
            return Ok(done);
        };
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Dynamo {
            operation: "TransactWriteItems",
            message: e.to_string(),
        };
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&run_key(org, run_id))))
            .update_expression(u.update_expression())
            .set_condition_expression(u.condition_expression())
            .set_expression_attribute_names(u.names())
            .set_expression_attribute_values(u.values())
            .build()
            .map_err(build)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(usage)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build)?;
        // The day's run aggregate is counted here too: the usage record's put decides once.
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(self.count_run(usage)?).build(),
        ];
        let done = self.transact(items, Retry::Transient).await?.committed()?;
        if done {
            tracing::info!(org = %org, run_id, outcome = settlement.outcome.as_str(), "run item settled");
        }
        Ok(done)
    }
}

/// What cost above the hold comes to for this intent (only commits report a cost).
fn excess_for(intent: &Intent<'_>, account: &Account) -> Excess {
    match intent {
        Intent::Commit { reporter, .. } => reporter.excess(account),
        _ => Excess::Refuse,
    }
}

/// The settlement of `hold` this intent proposes, and the run record that carries it (with
/// the usage record for a commit).
fn propose(
    org: &OrganizationId,
    account_id: &str,
    run_id: &str,
    hold: &Hold,
    intent: &Intent<'_>,
    excess: Excess,
    now: DateTime<Utc>,
) -> Result<(RunRecord, Settlement), QuotaError> {
    let mut settlement = Settlement {
        outcome: intent.outcome(),
        at: now,
        hold: hold.clone(),
        charged_cents: 0,
        excess_cents: 0,
        capped_cents: 0,
    };
    let mut usage = None;
    if let Intent::Commit { actual, details, .. } = intent {
        let settle = quota::settle(hold, *actual, excess).map_err(QuotaError::ExceedsHold)?;
        settlement.charged_cents = settle.charged_cents;
        settlement.excess_cents = settle.excess_cents;
        settlement.capped_cents = settle.capped_cents;
        usage = Some(UsageRecord::for_commit(org, account_id, run_id, hold, settle, *actual, details.clone(), now));
    }
    Ok((RunRecord::settled(org, run_id, settlement.clone(), usage), settlement))
}

/// The account update a settlement makes: remove the hold, move its money, and require that
/// the hold is still the one that was decided on.
fn account_change(account: &Account, run_id: &str, settlement: &Settlement, now: DateTime<Utc>) -> UpdateExpr {
    let hold = &settlement.hold;
    let mut u = UpdateExpr::new();
    let (holds, run, id) = (u.name("holds"), u.name(run_id), u.name("i"));
    let id_value = u.num(hold.id);
    let (updated, version, now_value, one) = (u.name("updated_at"), u.name("version"), u.str(timestamp(now)), u.num(1));
    u.remove(format!("{holds}.{run}"))
        .set(format!("{updated} = {now_value}"))
        .add(format!("{version} {one}"))
        .require(format!("{holds}.{run}.{id} = {id_value}"));
    match (settlement.outcome, hold.bucket) {
        (Outcome::Committed, bucket) => {
            let completed = u.name("total_workflows_completed");
            u.add(format!("{completed} {one}"));
            if bucket == Bucket::Credits {
                let (bal, held, spent) =
                    (u.name("credit_balance_cents"), u.name("credit_held_cents"), u.name("total_spent_cents"));
                let refund = hold.amount_cents - settlement.charged_cents;
                let (held_amount, refund, charged) =
                    (u.num(hold.amount_cents), u.num(refund), u.num(settlement.charged_cents));
                u.set(format!("{held} = {held} - {held_amount}"))
                    .set(format!("{bal} = {bal} + {refund}"))
                    .set(format!("{spent} = {spent} + {charged}"));
            }
        }
        (_, Bucket::Free) => {
            return_unit(&mut u, ("free_period", &account.free_period), "free_remaining", "+", &hold.period)
        }
        (_, Bucket::Subscription) => {
            return_unit(&mut u, ("usage_period", &account.usage_period), "period_used", "-", &hold.period)
        }
        (_, Bucket::Credits) => {
            let (bal, held, amt) =
                (u.name("credit_balance_cents"), u.name("credit_held_cents"), u.num(hold.amount_cents));
            u.set(format!("{bal} = {bal} + {amt}")).set(format!("{held} = {held} - {amt}"));
        }
        (_, Bucket::Overage | Bucket::Unlimited) => {}
    }
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
