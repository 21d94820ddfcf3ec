//! `SubscriptionResponse` (field for field as in the frontend guide, plus `pending_change`),
//! the plan history and a plan change preview.
//!
//! Every account has one: a Stripe subscription while one exists and has not ended,
//! otherwise the plan the account is on (lifetime, enterprise or free) under a stable id.
//! Unlimited limits are `null`, as in `/quota`.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::accounts::rules::Account;
use crate::catalog::rules::{Catalog, TierBilling};
use crate::launch_offers::rules::{self as launch, PricePhase};
use crate::launch_offers::store::LaunchSchedule;
use crate::money::dollars;
use crate::period;
use crate::quota::http::QuotaStandingResponse;
use crate::stripe_events::store::{PlanChange, SubscriptionItem};
use crate::subscriptions::rules::{self as lifecycle, ChangeCause, Request};
use crate::subscriptions::store::SubscriptionRequest;

/// How long Stripe keeps an unpaid upgrade pending before dropping it.
const PENDING_UPGRADE_LIFETIME_HOURS: i64 = 23;

/// A plan change that has been asked for and not yet taken effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingChange {
    pub tier: String,
    /// When a scheduled downgrade takes effect; `null` for an upgrade awaiting payment.
    pub effective_at: Option<DateTime<Utc>>,
    pub awaiting_payment: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionResponse {
    pub id: String,
    pub organization_id: String,
    pub billing_account_id: String,
    pub tier: String,
    pub status: String,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
    pub workflows_limit: Option<u32>,
    pub workflows_used: u32,
    pub workflows_remaining: Option<u32>,
    pub agents_limit: Option<u32>,
    pub storage_limit_gb: Option<u32>,
    #[serde(with = "rust_decimal::serde::float")]
    pub storage_used_gb: Decimal,
    pub is_lifetime: bool,
    pub lifetime_purchase_date: Option<DateTime<Utc>>,
    #[serde(with = "rust_decimal::serde::float_option")]
    pub lifetime_purchase_amount: Option<Decimal>,
    pub is_byo: bool,
    pub byo_providers_configured: Option<Vec<String>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub pending_change: Option<PendingChange>,
    /// The monthly price billed now: a launch offer's phase price during its phases, else
    /// the tier's; `null` on plans without a monthly price.
    #[serde(with = "rust_decimal::serde::float_option")]
    #[schema(value_type = Option<f64>)]
    pub current_price: Option<Decimal>,
    /// The launch offer's phase in force; `null` outside a launch offer.
    pub current_phase: Option<PricePhaseResponse>,
    /// The phase after it: the next intro price, or the tier's own price.
    pub next_phase: Option<PricePhaseResponse>,
}

/// One phase of a launch offer's prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PricePhaseResponse {
    /// The offer's name (e.g. "New Year deal"); the tier's name for its own price.
    pub name: String,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub price: Decimal,
    pub starts_at: DateTime<Utc>,
    /// `null` for the tier's own price, which runs on.
    pub ends_at: Option<DateTime<Utc>>,
    /// Whether this is one of the offer's introductory prices.
    pub intro: bool,
}

/// What the subscription view is built from.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    pub account: &'a Account,
    pub subscription: Option<&'a SubscriptionItem>,
    pub request: Option<&'a SubscriptionRequest>,
    pub storage_used_gb: Decimal,
}

impl SubscriptionResponse {
    pub fn at(standing: Standing<'_>, catalog: &Catalog, now: DateTime<Utc>) -> Self {
        let Standing { account, subscription, request, storage_used_gb } = standing;
        let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
        let quota = QuotaStandingResponse::at(account, catalog, now);
        let limits = crate::accounts::rules::limits::in_force(tier, &account.limit_overrides, now);
        let (workflows_limit, workflows_used) = if tier.billing == TierBilling::Free {
            let limit = quota.free.limit;
            (Some(limit), limit.saturating_sub(quota.free.remaining))
        } else {
            (quota.subscription.limit, quota.subscription.used)
        };
        let lifetime = subscription.filter(|s| s.is_lifetime);
        // An ended Stripe subscription is history: the plan the account fell back to shows.
        let stripe = subscription.filter(|s| s.stripe_subscription_id.is_some() && !lifecycle::is_terminal(&s.status));
        let mut view = Self {
            id: format!("{}_{}", tier.id, account.id),
            organization_id: account.organization_id.to_string(),
            billing_account_id: account.id.clone(),
            tier: account.tier.to_string(),
            status: "active".to_owned(),
            current_period_start: Some(period::month_start(now)),
            current_period_end: Some(period::next_month_start(now)),
            cancel_at_period_end: false,
            canceled_at: None,
            trial_start: None,
            trial_end: None,
            workflows_limit,
            workflows_used,
            workflows_remaining: workflows_limit.map(|l| l.saturating_sub(workflows_used)),
            agents_limit: limits.concurrent_agents,
            storage_limit_gb: limits.storage_gb,
            storage_used_gb,
            is_lifetime: lifetime.is_some(),
            lifetime_purchase_date: lifetime.and_then(|l| l.lifetime_purchase_date),
            lifetime_purchase_amount: lifetime.and_then(|l| l.lifetime_purchase_amount_cents).map(dollars),
            is_byo: tier.byo_keys,
            byo_providers_configured: tier.byo_keys.then(Vec::new),
            created_at: Some(account.created_at),
            updated_at: Some(account.updated_at),
            pending_change: None,
            current_price: tier.price_usd.filter(|_| tier.is_subscribable()),
            current_phase: None,
            next_phase: None,
        };
        if let Some(sub) = stripe {
            view.id = sub.stripe_subscription_id.clone().unwrap_or_default();
            view.status = sub.status.clone();
            view.current_period_start = sub.current_period_start;
            view.current_period_end = sub.current_period_end;
            view.cancel_at_period_end = sub.cancel_at_period_end;
            view.canceled_at = sub.canceled_at;
            view.trial_start = sub.trial_start;
            view.trial_end = sub.trial_end;
            view.created_at = Some(sub.created_at);
            view.updated_at = Some(sub.updated_at);
            view.pending_change = request.and_then(|r| pending_change(r, sub, account, now));
        }
        view
    }
}

impl SubscriptionResponse {
    /// The launch offer's phases, while its schedule drives this subscription.
    pub fn with_launch(mut self, launch: Option<&LaunchSchedule>, catalog: &Catalog, now: DateTime<Utc>) -> Self {
        let Some(launch) = launch.filter(|l| l.drives(&self.id) && !lifecycle::is_terminal(&self.status)) else {
            return self;
        };
        let tier_name = catalog.tier(&launch.tier).map_or(launch.tier.as_str(), |t| t.name.as_str());
        let shown = |phase: &PricePhase| PricePhaseResponse {
            name: if phase.intro { launch.offer_name.clone() } else { tier_name.to_owned() },
            price: dollars(phase.price_cents),
            starts_at: phase.starts_at,
            ends_at: phase.ends_at,
            intro: phase.intro,
        };
        let (current, next) = launch::current_and_next(&launch.phases, now);
        if let Some(current) = current {
            self.current_price = Some(dollars(current.price_cents));
        }
        // Once the tier's own price runs, the offer is over: nothing more to show.
        self.current_phase = current.filter(|p| p.intro).map(shown);
        self.next_phase = if current.is_some_and(|p| !p.intro) { None } else { next.map(shown) };
        self
    }
}

/// A downgrade waiting for the period end, or an upgrade waiting for its payment (which
/// Stripe drops after a day).
fn pending_change(
    request: &SubscriptionRequest,
    sub: &SubscriptionItem,
    account: &Account,
    now: DateTime<Utc>,
) -> Option<PendingChange> {
    let tier = request.tier.clone()?;
    if sub.stripe_subscription_id.as_deref() != Some(request.subscription_id.as_str()) || tier == account.tier.as_str()
    {
        return None;
    }
    match request.request {
        Request::Downgrade => Some(PendingChange { tier, effective_at: request.effective_at, awaiting_payment: false }),
        Request::Upgrade if now - request.requested_at < Duration::hours(PENDING_UPGRADE_LIFETIME_HOURS) => {
            Some(PendingChange { tier, effective_at: None, awaiting_payment: true })
        }
        _ => None,
    }
}

/// One entry of `GET .../subscription/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanChangeResponse {
    pub from_tier: String,
    pub to_tier: String,
    pub changed_at: DateTime<Utc>,
    /// checkout, upgrade, downgrade, cancellation, payment_failure, lifetime_purchase,
    /// lifetime_refund, stripe (portal or dashboard) or admin; `null` on old entries.
    pub cause: Option<ChangeCause>,
    /// The user who asked, `checkout`, `stripe` or the operator.
    pub changed_by: Option<String>,
    pub reason: String,
}

impl From<&PlanChange> for PlanChangeResponse {
    fn from(change: &PlanChange) -> Self {
        Self {
            from_tier: change.from_tier.clone(),
            to_tier: change.to_tier.clone(),
            changed_at: change.changed_at,
            cause: change.cause,
            changed_by: change.actor.clone(),
            reason: change.reason.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanHistoryResponse {
    pub organization_id: String,
    /// Newest first.
    pub changes: Vec<PlanChangeResponse>,
}

/// `GET .../subscription/preview?tier=`: what a change would cost, changing nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangePreviewResponse {
    pub organization_id: String,
    pub from_tier: String,
    pub to_tier: String,
    /// `upgrade` (applies now, prorated) or `downgrade` (at the period end).
    pub direction: String,
    /// Charged now: the proration Stripe would invoice (0 for a downgrade).
    #[serde(with = "rust_decimal::serde::float")]
    pub amount_due_now: Decimal,
    /// The monthly price from the next period on.
    #[serde(with = "rust_decimal::serde::float")]
    pub next_period_amount: Decimal,
    pub effective_at: Option<DateTime<Utc>>,
    pub currency: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe_events::store::subscription_key;
    use crate::{catalog::rules::TierId, ids::OrganizationId};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 10, 12, 0, 0).unwrap()
    }

    fn pro_subscription(status: &str) -> SubscriptionItem {
        let org = OrganizationId::parse("org-1").unwrap();
        let key = subscription_key(&org);
        SubscriptionItem {
            pk: key.pk,
            sk: key.sk,
            organization_id: org,
            stripe_subscription_id: Some("sub_1".into()),
            stripe_price_id: Some("price_pro".into()),
            tier: "pro".into(),
            status: status.into(),
            current_period_start: Some(Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap()),
            current_period_end: Some(Utc.with_ymd_and_hms(2027, 1, 5, 0, 0, 0).unwrap()),
            cancel_at_period_end: false,
            canceled_at: None,
            trial_start: None,
            trial_end: None,
            is_lifetime: false,
            lifetime_purchase_date: None,
            lifetime_purchase_amount_cents: None,
            source_event_created: 1,
            order_rank: Some(4),
            subscribed_at: Some(1),
            created_at: now(),
            updated_at: now(),
        }
    }

    fn account(tier: &str) -> Account {
        let catalog = Catalog::builtin();
        let mut account = Account::new_free(&OrganizationId::parse("org-1").unwrap(), now(), 5, catalog.free_tier);
        account.tier = TierId::new(tier);
        account
    }

    #[test]
    fn a_free_account_shows_the_free_plan_with_its_monthly_quota() {
        let mut account = account("free");
        account.free_remaining = 3;
        let standing = Standing { account: &account, subscription: None, request: None, storage_used_gb: Decimal::ONE };
        let view = SubscriptionResponse::at(standing, &Catalog::builtin(), now());
        assert_eq!(view.id, format!("free_{}", account.id));
        assert_eq!((view.tier.as_str(), view.status.as_str()), ("free", "active"));
        assert_eq!((view.workflows_limit, view.workflows_used, view.workflows_remaining), (Some(5), 2, Some(3)));
        assert_eq!((view.agents_limit, view.storage_limit_gb), (Some(1), Some(2)));
        assert_eq!(view.current_period_end, Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()));
    }

    #[test]
    fn a_paused_subscription_keeps_its_status_while_the_plan_falls_back_to_free() {
        let account = account("free");
        let sub = pro_subscription("paused");
        let standing =
            Standing { account: &account, subscription: Some(&sub), request: None, storage_used_gb: Decimal::ZERO };
        let view = SubscriptionResponse::at(standing, &Catalog::builtin(), now());
        assert_eq!((view.id.as_str(), view.tier.as_str(), view.status.as_str()), ("sub_1", "free", "paused"));
    }

    #[test]
    fn an_ended_subscription_shows_the_plan_fallen_back_to() {
        let account = account("free");
        let sub = pro_subscription("canceled");
        let standing =
            Standing { account: &account, subscription: Some(&sub), request: None, storage_used_gb: Decimal::ZERO };
        let view = SubscriptionResponse::at(standing, &Catalog::builtin(), now());
        assert!(view.id.starts_with("free_"), "{}", view.id);
        assert_eq!(view.status, "active");
    }

    #[test]
    fn a_downgrade_is_pending_until_the_tier_changes_and_an_unpaid_upgrade_only_for_a_day() {
        let account = account("pro");
        let sub = pro_subscription("active");
        let org = account.organization_id.clone();
        let mut downgrade = SubscriptionRequest::new(&org, "sub_1", Request::Downgrade, "user-1", now());
        downgrade.tier = Some("starter".into());
        downgrade.effective_at = sub.current_period_end;
        let standing =
            |request| Standing { account: &account, subscription: Some(&sub), request, storage_used_gb: Decimal::ZERO };
        let view = SubscriptionResponse::at(standing(Some(&downgrade)), &Catalog::builtin(), now());
        assert_eq!(
            view.pending_change,
            Some(PendingChange {
                tier: "starter".into(),
                effective_at: sub.current_period_end,
                awaiting_payment: false
            })
        );
        let mut upgrade = SubscriptionRequest::new(&org, "sub_1", Request::Upgrade, "user-1", now());
        upgrade.tier = Some("team".into());
        let view = SubscriptionResponse::at(standing(Some(&upgrade)), &Catalog::builtin(), now());
        assert_eq!(view.pending_change.map(|p| p.awaiting_payment), Some(true));
        let later = now() + Duration::days(2);
        assert_eq!(SubscriptionResponse::at(standing(Some(&upgrade)), &Catalog::builtin(), later).pending_change, None);
        // Another subscription's request is not this one's.
        let other = SubscriptionRequest { subscription_id: "sub_old".into(), ..upgrade.clone() };
        assert_eq!(SubscriptionResponse::at(standing(Some(&other)), &Catalog::builtin(), now()).pending_change, None);
    }
}
