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
use serde::{Deserialize, Serialize};

use crate::accounts::rules::{Account, AccountStatus};
use crate::catalog::rules::{Catalog, RunPrices, Tier, TierBilling};
use crate::money::{Cents, MoneyError, rounded_cents};
use crate::{catalog::rules::TierId, period};

pub use crate::accounts::rules::holds::{Bucket, Hold, RunKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Reported cost above the hold that the customer did not allow: recorded, not charged.
    #[serde(default)]
    pub capped_cents: Cents,
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
    /// What the decision found about the cheaper buckets it passed over; the write re-checks
    /// it, so a grant decided on a remembered (stale) account never skips free runs or
    /// credits that another process has added meanwhile.
    pub passed_over: PassedOver,
}

/// The cheaper buckets a grant passed over, as the decision saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassedOver {
    /// This month's free quota was used up (`free_period = month`, `free_remaining < 1`).
    pub free_used_up: Option<String>,
    /// Credits were below this hold amount (`credit_balance_cents < amount`).
    pub credits_below: Option<Cents>,
    /// The subscription quota of this period was used up (`usage_period = period`,
    /// `period_used >= limit`).
    pub subscription_used_up: Option<(String, u32)>,
}

/// The counter change a grant makes, with what the write must find to be allowed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// One free workflow from the current month (`free_period = period`, `free_remaining >= 1`).
    Free { period: String },
    /// First free workflow of a new month: the write starts the month at `quota - 1`, only
    /// if the stored month is earlier (`free_period < period`), so the reset never goes back.
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

impl Refusal {
    /// The machine code callers see (`{"code"}` of the refusal, the `reason` of its metric).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Suspended => "account_suspended",
            Self::ConcurrencyFull { .. } => "concurrency_limit",
            Self::Exhausted => "quota_exhausted",
            Self::BudgetExceeded => "budget_exceeded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The run already holds a reservation: answer with it, take nothing.
    Existing(Hold),
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

/// The limits in force for this account now: its tier's, or an operator's override.
pub fn limits_of(account: &Account, tier: &Tier, now: DateTime<Utc>) -> Limits {
    let limits = crate::accounts::rules::limits::in_force(tier, &account.limit_overrides, now);
    Limits { agents: limits.concurrent_agents, workflows_per_period: limits.workflows_per_month }
}

/// The subscription period key in force at `now` for a tier. Lifetime plans count calendar
/// months; Stripe subscriptions count the period the last invoice opened (set by webhooks).
///
/// Periods only move forward: an account already in a later month than `now` (a request that
/// began before midnight and retried after another request started the new month) stays in
/// that month.
pub fn current_usage_period(account: &Account, tier: &Tier, now: DateTime<Utc>) -> String {
    if tier.billing == TierBilling::OneTime {
        period::month_key(now).max(account.usage_period.clone())
    } else {
        account.usage_period.clone()
    }
}

/// The free-quota month in force at `now`: never earlier than the account's own.
pub fn current_free_period(account: &Account, now: DateTime<Utc>) -> String {
    period::month_key(now).max(account.free_period.clone())
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
    let limits = limits_of(account, tier, now);
    if let Some(limit) = limits.agents
        && account.holds.len() >= limit as usize
    {
        let earliest = account.holds.values().map(|h| h.expires_at).min().unwrap_or(now.timestamp());
        let retry_after_secs = u64::try_from(earliest - now.timestamp()).unwrap_or(0).clamp(1, 60);
        return Decision::Refuse(Refusal::ConcurrencyFull { limit, retry_after_secs });
    }
    let this_month = month.clone();
    // Stored to the millisecond (the hold's identity), so keep no finer precision in memory.
    let created_at = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let make = |bucket: Bucket, amount_cents: Cents, period: String, take: Take, passed_over: PassedOver| {
        Decision::Grant(Grant {
            hold: Hold {
                kind: request.kind,
                bucket,
                amount_cents,
                period,
                created_at,
                expires_at: (now + ttl).timestamp(),
                id: fastrand::u32(..),
            },
            tier: account.tier.clone(),
            agents_limit: limits.agents,
            take,
            month: this_month.clone(),
            passed_over,
        })
    };
    let mut passed = PassedOver::default();
    if limits.workflows_per_period.is_none() {
        return make(Bucket::Unlimited, 0, String::new(), Take::Nothing, passed);
    }

    let free_quota = catalog.free_workflows_per_month();
    let free_month = current_free_period(account, now);
    if account.free_period != free_month {
        if free_quota > 0 {
            let take = Take::FreeNewMonth { period: free_month.clone(), remaining_after: free_quota - 1 };
            return make(Bucket::Free, 0, free_month, take, passed);
        }
    } else if account.free_remaining > 0 {
        return make(Bucket::Free, 0, free_month.clone(), Take::Free { period: free_month }, passed);
    } else {
        passed.free_used_up = Some(free_month.clone());
    }

    if let Ok(amount) = hold_amount(request.kind, &catalog.run_prices, request.estimated_cost_cents)
        && amount > 0
    {
        if account.credit_balance_cents >= amount {
            return make(Bucket::Credits, amount, String::new(), Take::Credits { amount }, passed);
        }
        passed.credits_below = Some(amount);
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
                    passed,
                );
            }
        } else if account.period_used < limit {
            return make(
                Bucket::Subscription,
                0,
                usage_period.clone(),
                Take::Subscription { period: usage_period, limit },
                passed,
            );
        } else {
            passed.subscription_used_up = Some((usage_period, limit));
        }
    }

    if paid
        && account.has_payment_method
        && let Ok(amount) = hold_amount(request.kind, &catalog.overage_prices, request.estimated_cost_cents)
    {
        return make(Bucket::Overage, amount, String::new(), Take::Overage, passed);
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
    /// Cost above the hold that is invoiced as overage.
    pub excess_cents: Cents,
    /// Cost above the hold that the customer did not allow: recorded, never charged.
    pub capped_cents: Cents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceedsHold {
    pub held_cents: Cents,
    pub actual_cents: Cents,
}

/// What to do with a reported cost above the hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excess {
    /// Refuse the commit (the HTTP route without `overage_approved`: the caller can decide).
    Refuse,
    /// Invoice the excess as overage.
    Bill,
    /// Charge up to the hold and record the rest as capped.
    Cap,
}

impl Excess {
    /// For a run outcome from the queue, which cannot be asked again: bill what the caller
    /// approved or what the account may incur as overage, cap the rest. Never free, never
    /// above what the customer allowed.
    pub fn for_reported_outcome(overage_approved: bool, account: &Account, catalog: &Catalog) -> Self {
        if overage_approved || may_incur_overage(account, catalog) { Self::Bill } else { Self::Cap }
    }
}

/// Who reports a run's cost, which decides what happens to a cost above the hold.
#[derive(Debug, Clone, Copy)]
pub enum Reporter<'a> {
    /// The commit route: above the hold only with `overage_approved` (else 409, the caller
    /// can ask again).
    Caller { overage_approved: bool },
    /// A run outcome from the queue, which cannot be asked again.
    Queue { overage_approved: bool, catalog: &'a Catalog },
}

impl From<bool> for Reporter<'_> {
    fn from(overage_approved: bool) -> Self {
        Self::Caller { overage_approved }
    }
}

impl Reporter<'_> {
    pub fn excess(&self, account: &Account) -> Excess {
        match *self {
            Self::Caller { overage_approved: true } => Excess::Bill,
            Self::Caller { overage_approved: false } => Excess::Refuse,
            Self::Queue { overage_approved, catalog } => {
                Excess::for_reported_outcome(overage_approved, account, catalog)
            }
        }
    }
}

/// Paid tiers with a payment method on file may run (and be invoiced) beyond their quota.
pub fn may_incur_overage(account: &Account, catalog: &Catalog) -> bool {
    let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
    tier.billing != TierBilling::Free && account.has_payment_method
}

/// Settles `hold` at `actual` (the hold's amount when the caller reports none). What lies
/// above the hold is handled as `excess` says; it is never silently taken from credits.
pub fn settle(hold: &Hold, actual: Option<Cents>, excess: Excess) -> Result<Settle, ExceedsHold> {
    let held = hold.amount_cents;
    let actual = actual.unwrap_or(held);
    match hold.bucket {
        Bucket::Credits | Bucket::Overage => {
            let above = (actual - held).max(0);
            if above > 0 && excess == Excess::Refuse {
                return Err(ExceedsHold { held_cents: held, actual_cents: actual });
            }
            let charged = actual.min(held);
            let refund = if hold.bucket == Bucket::Credits { held - charged } else { 0 };
            let (excess_cents, capped_cents) = if excess == Excess::Bill { (above, 0) } else { (0, above) };
            Ok(Settle { charged_cents: charged, refund_cents: refund, excess_cents, capped_cents })
        }
        // A workflow from an included quota is the unit itself; its cost is recorded, not charged.
        Bucket::Free | Bucket::Subscription | Bucket::Unlimited => {
            Ok(Settle { charged_cents: 0, refund_cents: 0, excess_cents: 0, capped_cents: 0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrganizationId;
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
    fn a_request_that_started_last_month_never_takes_the_free_period_back() {
        let catalog = Catalog::builtin();
        let mut a = account("free");
        let december = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 1).unwrap();
        a.free_period = "2026-12".into();
        a.free_remaining = 3;
        // The request's clock still says November: it is decided in December's quota.
        let late_november = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap();
        match decide(&a, &request("r"), &catalog, late_november, ttl()) {
            Decision::Grant(g) => assert_eq!(g.take, Take::Free { period: "2026-12".into() }),
            other => panic!("expected a grant, got {other:?}"),
        }
        a.free_remaining = 0;
        assert_eq!(decide(&a, &request("r"), &catalog, late_november, ttl()), Decision::Refuse(Refusal::Exhausted));
        assert!(matches!(decide(&a, &request("r"), &catalog, december, ttl()), Decision::Refuse(_)));
    }

    #[test]
    fn a_hold_is_stored_under_one_letter_names() {
        let hold = Hold {
            kind: RunKind::Standard,
            bucket: Bucket::Free,
            amount_cents: 0,
            period: "2026-11".into(),
            created_at: now(),
            expires_at: 1,
            id: 7,
        };
        let json = serde_json::to_value(&hold).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"k": "standard", "b": "free", "p": "2026-11", "c": now().timestamp_millis(), "e": 1, "i": 7})
        );
        assert_eq!(serde_json::from_value::<Hold>(json).unwrap(), hold);
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
            id: 1,
        };
        let s = |charged, refund, excess, capped| {
            Ok(Settle { charged_cents: charged, refund_cents: refund, excess_cents: excess, capped_cents: capped })
        };
        assert_eq!(settle(&hold, None, Excess::Refuse), s(1_000, 0, 0, 0));
        assert_eq!(settle(&hold, Some(600), Excess::Refuse), s(600, 400, 0, 0));
        assert_eq!(
            settle(&hold, Some(1_200), Excess::Refuse),
            Err(ExceedsHold { held_cents: 1_000, actual_cents: 1_200 })
        );
        assert_eq!(settle(&hold, Some(1_200), Excess::Bill), s(1_000, 0, 200, 0));
        assert_eq!(settle(&hold, Some(1_200), Excess::Cap), s(1_000, 0, 0, 200));
        let free = Hold { bucket: Bucket::Free, amount_cents: 0, ..hold };
        assert_eq!(settle(&free, Some(5_000), Excess::Refuse), s(0, 0, 0, 0));
    }
}
