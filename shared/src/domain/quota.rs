//! Quota reservations: which bucket pays for a run, and what a hold looks like.
//!
//! Pure rules only. The store turns a [`Grant`] into one conditional `UpdateItem` whose
//! condition re-checks everything decided here against the live item, so a decision made
//! on stale data can fail but never over-grant.
//!
//! Consumption priority: monthly free quota → prepaid credits → subscription quota →
//! overage (paid tiers with a payment method) → refuse. Tiers with unlimited workflows take
//! no quota at all but still respect the concurrency limit.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::account::{Account, AccountStatus};
use super::money::{Cents, MoneyError, rounded_cents};
use super::plans::{Catalog, RunPrices, Tier, TierBilling};
use super::{TierId, period};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Standard,
    Complex,
}

impl RunKind {
    pub fn price(self, prices: &RunPrices) -> Decimal {
        match self {
            Self::Standard => prices.standard,
            Self::Complex => prices.complex,
        }
    }
}

/// Where a run's cost is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Free,
    Credits,
    Subscription,
    Overage,
    Unlimited,
}

/// An open reservation, stored in the account's `holds` map under its run id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub kind: RunKind,
    pub bucket: Bucket,
    /// Credits set aside (credits bucket) or the price to invoice (overage); 0 otherwise.
    pub amount_cents: Cents,
    /// The period the unit was taken from (free or subscription bucket), so a refund after
    /// the period rolled over does not inflate the new period's quota.
    pub period: String,
    pub created_at: DateTime<Utc>,
    /// Unix seconds; compared in DynamoDB conditions by the sweeper and heartbeat.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Committed,
    Released,
    Expired,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }
}

/// How a run was settled: kept durably in its run record, so late retries of commit or
/// release get the first answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
    pub hold: Hold,
    /// Taken from the bucket (credits) or to be invoiced (overage) when committed.
    pub charged_cents: Cents,
    /// Approved cost above the hold, invoiced as overage.
    pub excess_cents: Cents,
}

/// A small marker left on the account for a recently settled run, so a reserve retried in
/// that window cannot start the run again. Marks are few and short-lived because every byte
/// of the account item is paid for on every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledMark {
    pub outcome: Outcome,
    /// Unix seconds.
    pub at: i64,
}

/// Marks older than this are pruned by the next settling write.
pub const SETTLED_MARK_RETENTION_SECS: i64 = 600;
/// At most this many marks are kept (the newest).
pub const SETTLED_MARK_LIMIT: usize = 32;

/// Run ids whose marks a settling write at `now` should remove: expired ones, and the oldest
/// beyond the limit once the new mark is added.
pub fn marks_to_prune(marks: &std::collections::BTreeMap<String, SettledMark>, now: DateTime<Utc>) -> Vec<String> {
    let cutoff = now.timestamp() - SETTLED_MARK_RETENTION_SECS;
    let mut by_age: Vec<(&String, &SettledMark)> = marks.iter().collect();
    by_age.sort_by_key(|(_, m)| std::cmp::Reverse(m.at));
    by_age
        .into_iter()
        .enumerate()
        .filter(|(rank, (_, mark))| mark.at < cutoff || *rank + 1 >= SETTLED_MARK_LIMIT)
        .map(|(_, (run, _))| run.clone())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveRequest {
    pub run_id: String,
    pub kind: RunKind,
    pub estimated_cost_cents: Option<Cents>,
}

/// What reserving needs to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub hold: Hold,
    /// The tier the decision was made for; the write is conditional on it.
    pub tier: TierId,
    /// Concurrency limit enforced by the write (`size(holds) < limit`); `None` = unlimited.
    pub agents_limit: Option<u32>,
    pub take: Take,
    /// The month the decision was made in; the write refuses if the budget blocked it.
    pub month: String,
}

/// The counter change a grant makes, with what the write must find to be allowed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// One free workflow from the current month (`free_period = period`, `free_remaining >= 1`).
    Free { period: String },
    /// First free workflow of a new month: the write starts the month at `quota - 1`.
    FreeNewMonth { period: String, remaining_after: u32 },
    /// Prepaid credits (`credit_balance_cents >= amount`).
    Credits { amount: Cents },
    /// One workflow of the subscription quota (`period_used < limit` in `period`).
    Subscription { period: String, limit: u32 },
    /// First subscription workflow of a new calendar month (lifetime plans).
    SubscriptionNewMonth { period: String },
    /// Billed later; requires a payment method on file.
    Overage,
    /// Unlimited tiers: nothing to take.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Suspended,
    /// Every concurrent slot is held; the earliest hold frees (or expires) in `retry_after`.
    ConcurrencyFull {
        limit: u32,
        retry_after_secs: u64,
    },
    Exhausted,
    /// A hard-capped budget was exceeded this month.
    BudgetExceeded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The run already holds a reservation: answer with it, take nothing.
    Existing(Hold),
    /// The run was settled moments ago; it cannot be reserved again.
    Settled(Outcome),
    Grant(Grant),
    Refuse(Refusal),
}

/// Limits in force for an account's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub agents: Option<u32>,
    pub workflows_per_period: Option<u32>,
}

pub fn limits_for(tier: &Tier) -> Limits {
    Limits { agents: tier.concurrent_agents.finite(), workflows_per_period: tier.workflows_per_month.finite() }
}

/// The subscription period key in force at `now` for a tier. Lifetime plans count calendar
/// months; Stripe subscriptions count the period the last invoice opened (set by webhooks).
pub fn current_usage_period(account: &Account, tier: &Tier, now: DateTime<Utc>) -> String {
    if tier.billing == TierBilling::OneTime { period::month_key(now) } else { account.usage_period.clone() }
}

pub fn hold_amount(kind: RunKind, prices: &RunPrices, estimate: Option<Cents>) -> Result<Cents, MoneyError> {
    let price = rounded_cents(kind.price(prices))?;
    Ok(estimate.map_or(price, |e| e.max(price)))
}

/// Decides what reserving `request` against `account` would do at `now`.
pub fn decide(
    account: &Account,
    request: &ReserveRequest,
    catalog: &Catalog,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Decision {
    if let Some(hold) = account.holds.get(&request.run_id) {
        return Decision::Existing(hold.clone());
    }
    if let Some(mark) = account.settled.get(&request.run_id) {
        return Decision::Settled(mark.outcome);
    }
    if account.status != AccountStatus::Active {
        return Decision::Refuse(Refusal::Suspended);
    }
    // An unknown tier (catalog changed under a live account) falls back to the free tier's
    // limits rather than granting unlimited use.
    let month = period::month_key(now);
    if account.budget_blocked_period.as_deref() == Some(month.as_str()) {
        return Decision::Refuse(Refusal::BudgetExceeded);
    }
    let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
    let limits = limits_for(tier);
    if let Some(limit) = limits.agents
        && account.holds.len() >= limit as usize
    {
        let earliest = account.holds.values().map(|h| h.expires_at).min().unwrap_or(now.timestamp());
        let retry_after_secs = u64::try_from(earliest - now.timestamp()).unwrap_or(0).clamp(1, 60);
        return Decision::Refuse(Refusal::ConcurrencyFull { limit, retry_after_secs });
    }
    let this_month = month.clone();
    let make = |bucket: Bucket, amount_cents: Cents, period: String, take: Take| {
        Decision::Grant(Grant {
            hold: Hold {
                kind: request.kind,
                bucket,
                amount_cents,
                period,
                created_at: now,
                expires_at: (now + ttl).timestamp(),
            },
            tier: account.tier.clone(),
            agents_limit: limits.agents,
            take,
            month: this_month.clone(),
        })
    };
    if limits.workflows_per_period.is_none() {
        return make(Bucket::Unlimited, 0, String::new(), Take::Nothing);
    }

    let free_quota = catalog.free_workflows_per_month();
    if account.free_period != month {
        if free_quota > 0 {
            let take = Take::FreeNewMonth { period: month.clone(), remaining_after: free_quota - 1 };
            return make(Bucket::Free, 0, month, take);
        }
    } else if account.free_remaining > 0 {
        return make(Bucket::Free, 0, month.clone(), Take::Free { period: month });
    }

    if let Ok(amount) = hold_amount(request.kind, &catalog.run_prices, request.estimated_cost_cents)
        && amount > 0
        && account.credit_balance_cents >= amount
    {
        return make(Bucket::Credits, amount, String::new(), Take::Credits { amount });
    }

    let paid = tier.billing != TierBilling::Free;
    if let (true, Some(limit)) = (paid, limits.workflows_per_period) {
        let usage_period = current_usage_period(account, tier, now);
        if usage_period != account.usage_period {
            if limit > 0 {
                return make(
                    Bucket::Subscription,
                    0,
                    usage_period.clone(),
                    Take::SubscriptionNewMonth { period: usage_period },
                );
            }
        } else if account.period_used < limit {
            return make(
                Bucket::Subscription,
                0,
                usage_period.clone(),
                Take::Subscription { period: usage_period, limit },
            );
        }
    }

    if paid
        && account.has_payment_method
        && let Ok(amount) = hold_amount(request.kind, &catalog.overage_prices, request.estimated_cost_cents)
    {
        return make(Bucket::Overage, amount, String::new(), Take::Overage);
    }
    Decision::Refuse(Refusal::Exhausted)
}

/// How a commit settles a hold: what the bucket keeps, what goes back, what is invoiced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settle {
    /// Taken for good from the hold (credits) or priced for the invoice (overage).
    pub charged_cents: Cents,
    /// Returned to the credit balance (credits bucket only).
    pub refund_cents: Cents,
    /// Approved cost above the hold, invoiced as overage.
    pub excess_cents: Cents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceedsHold {
    pub held_cents: Cents,
    pub actual_cents: Cents,
}

/// Settles `hold` at `actual` (the hold's amount when the caller reports none). Settling
/// above the hold needs `overage_approved`; the excess is then invoiced, never silently
/// taken from credits.
pub fn settle(hold: &Hold, actual: Option<Cents>, overage_approved: bool) -> Result<Settle, ExceedsHold> {
    let held = hold.amount_cents;
    let actual = actual.unwrap_or(held);
    match hold.bucket {
        Bucket::Credits | Bucket::Overage => {
            if actual > held && !overage_approved {
                return Err(ExceedsHold { held_cents: held, actual_cents: actual });
            }
            let charged = actual.min(held);
            let refund = if hold.bucket == Bucket::Credits { held - charged } else { 0 };
            Ok(Settle { charged_cents: charged, refund_cents: refund, excess_cents: (actual - held).max(0) })
        }
        // A workflow from an included quota is the unit itself; its cost is recorded, not charged.
        Bucket::Free | Bucket::Subscription | Bucket::Unlimited => {
            Ok(Settle { charged_cents: 0, refund_cents: 0, excess_cents: 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrganizationId;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn account(tier: &str) -> Account {
        let mut a = Account::new_free(&OrganizationId::parse("o").unwrap(), now(), 5, TierId::new("free"));
        a.tier = TierId::new(tier);
        a
    }

    fn request(run: &str) -> ReserveRequest {
        ReserveRequest { run_id: run.into(), kind: RunKind::Standard, estimated_cost_cents: None }
    }

    fn bucket(decision: &Decision) -> Option<Bucket> {
        match decision {
            Decision::Grant(g) => Some(g.hold.bucket),
            _ => None,
        }
    }

    fn ttl() -> Duration {
        Duration::minutes(30)
    }

    #[test]
    fn buckets_are_used_in_priority_order() {
        let catalog = Catalog::builtin();
        let mut a = account("pro");
        a.credit_balance_cents = 1_000;
        a.has_payment_method = true;
        assert_eq!(bucket(&decide(&a, &request("r"), &catalog, now(), ttl())), Some(Bucket::Free));
        a.free_remaining = 0;
        assert_eq!(bucket(&decide(&a, &request("r"), &catalog, now(), ttl())), Some(Bucket::Credits));
        a.credit_balance_cents = 999;
        assert_eq!(bucket(&decide(&a, &request("r"), &catalog, now(), ttl())), Some(Bucket::Subscription));
        a.period_used = 100;
        assert_eq!(bucket(&decide(&a, &request("r"), &catalog, now(), ttl())), Some(Bucket::Overage));
        a.has_payment_method = false;
        assert_eq!(decide(&a, &request("r"), &catalog, now(), ttl()), Decision::Refuse(Refusal::Exhausted));
    }

    #[test]
    fn the_free_tier_never_reaches_subscription_or_overage() {
        let catalog = Catalog::builtin();
        let mut a = account("free");
        a.free_remaining = 0;
        a.has_payment_method = true;
        assert_eq!(decide(&a, &request("r"), &catalog, now(), ttl()), Decision::Refuse(Refusal::Exhausted));
    }

    #[test]
    fn a_new_month_restarts_the_free_quota_inside_the_grant() {
        let catalog = Catalog::builtin();
        let mut a = account("free");
        a.free_remaining = 0;
        let december = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        match decide(&a, &request("r"), &catalog, december, ttl()) {
            Decision::Grant(g) => {
                assert_eq!(g.take, Take::FreeNewMonth { period: "2026-12".into(), remaining_after: 4 });
                assert_eq!(g.hold.period, "2026-12");
            }
            other => panic!("expected a grant, got {other:?}"),
        }
    }

    #[test]
    fn unlimited_tiers_take_nothing_but_still_respect_concurrency() {
        let catalog = Catalog::builtin();
        let mut a = account("byo");
        a.credit_balance_cents = 10_000;
        let d = decide(&a, &request("r"), &catalog, now(), ttl());
        assert_eq!(bucket(&d), Some(Bucket::Unlimited));
        let enterprise = account("enterprise");
        assert!(matches!(
            decide(&enterprise, &request("r"), &catalog, now(), ttl()),
            Decision::Grant(Grant { agents_limit: None, .. })
        ));
    }

    #[test]
    fn a_full_set_of_slots_refuses_with_a_retry_hint_and_suspension_refuses_first() {
        let catalog = Catalog::builtin();
        let mut a = account("free");
        let Decision::Grant(g) = decide(&a, &request("r1"), &catalog, now(), ttl()) else { panic!() };
        a.holds.insert("r1".into(), g.hold);
        match decide(&a, &request("r2"), &catalog, now(), ttl()) {
            Decision::Refuse(Refusal::ConcurrencyFull { limit: 1, retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(decide(&a, &request("r1"), &catalog, now(), ttl()), Decision::Existing(_)));
        a.status = AccountStatus::Suspended;
        assert_eq!(decide(&a, &request("r3"), &catalog, now(), ttl()), Decision::Refuse(Refusal::Suspended));
    }

    #[test]
    fn settled_marks_are_pruned_by_age_and_by_count() {
        let mark = |age: i64| SettledMark { outcome: Outcome::Committed, at: now().timestamp() - age };
        let mut marks: std::collections::BTreeMap<String, SettledMark> =
            (0..SETTLED_MARK_LIMIT as i64).map(|i| (format!("r{i:02}"), mark(i))).collect();
        marks.insert("ancient".into(), mark(SETTLED_MARK_RETENTION_SECS + 1));
        let mut pruned = marks_to_prune(&marks, now());
        pruned.sort();
        // The expired one, and the oldest of the rest so that the new mark fits the limit.
        assert_eq!(pruned, ["ancient", "r31"]);
    }

    #[test]
    fn credits_hold_the_larger_of_the_run_price_and_the_estimate() {
        let prices = Catalog::builtin().run_prices;
        assert_eq!(hold_amount(RunKind::Standard, &prices, None), Ok(1_000));
        assert_eq!(hold_amount(RunKind::Complex, &prices, Some(200)), Ok(1_500));
        assert_eq!(hold_amount(RunKind::Complex, &prices, Some(2_000)), Ok(2_000));
    }

    #[test]
    fn settling_refunds_the_unused_hold_and_refuses_unapproved_excess() {
        let hold = Hold {
            kind: RunKind::Standard,
            bucket: Bucket::Credits,
            amount_cents: 1_000,
            period: String::new(),
            created_at: now(),
            expires_at: 0,
        };
        assert_eq!(settle(&hold, None, false), Ok(Settle { charged_cents: 1_000, refund_cents: 0, excess_cents: 0 }));
        assert_eq!(
            settle(&hold, Some(600), false),
            Ok(Settle { charged_cents: 600, refund_cents: 400, excess_cents: 0 })
        );
        assert_eq!(settle(&hold, Some(1_200), false), Err(ExceedsHold { held_cents: 1_000, actual_cents: 1_200 }));
        assert_eq!(
            settle(&hold, Some(1_200), true),
            Ok(Settle { charged_cents: 1_000, refund_cents: 0, excess_cents: 200 })
        );
        let free = Hold { bucket: Bucket::Free, amount_cents: 0, ..hold };
        assert_eq!(
            settle(&free, Some(5_000), false),
            Ok(Settle { charged_cents: 0, refund_cents: 0, excess_cents: 0 })
        );
    }
}
