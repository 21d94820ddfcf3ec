//! What a customer can ask of their subscription: cancel (at period end or now), reactivate,
//! change plan, and preview a change.
//!
//! Each request asks Stripe first and then applies Stripe's answer through the same path as
//! webhook events ([`apply_subscription`]), so the answer is what Stripe now says and a later
//! webhook agrees with it. Requests for one organization run one at a time (a short lock
//! beside the subscription), so a cancel and a change sent together end in the state of one
//! order or the other, never a mix.
//!
//! An upgrade applies now with proration and, with `pending_if_incomplete`, only once its
//! invoice is paid: the tier rises when Stripe reports the new price. A downgrade is a
//! subscription schedule switching the price at the period end.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::apply::{ApplyError, Origin, apply_subscription};
use super::view;
use crate::App;
use crate::catalog::rules::{Tier, TierBilling};
use crate::ids::OrganizationId;
use crate::launch_offers::flow::{self as launch_offers, LaunchError};
use crate::money::dollars;
use crate::payments::StripeApi;
use crate::payments::client::{PaymentError, ScheduledChange};
use crate::store::StoreError;
use crate::stripe_events::store::SubscriptionItem;
use crate::subscriptions::http::{ChangePreviewResponse, SubscriptionResponse};
use crate::subscriptions::rules::{self as lifecycle, Direction, Request};
use crate::subscriptions::store::SubscriptionRequest;

/// How long a request may hold the lock (Stripe calls included) before others may go.
const LOCK_SECONDS: i64 = 30;
/// How long a request waits for another one on the same subscription before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(8);

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("The organization has no subscription; subscribe through checkout first.")]
    NoSubscription,
    #[error("The subscription has ended; subscribe again through checkout.")]
    Ended,
    #[error("The subscription is set to end at the period end; reactivate it before changing plan.")]
    CancellationPending,
    #[error("The organization is already on the {0} plan.")]
    SameTier(String),
    #[error("Moving to the free plan is a cancellation: use the cancel endpoint.")]
    ToFree,
    #[error("{0:?} is not a plan one can subscribe to; choose one of {1}.")]
    InvalidTier(String, String),
    #[error("The {0} plan has no price configured on this deployment.")]
    NoPrice(String),
    #[error("The subscription's last payment failed; pay the open invoice before changing plan.")]
    PastDue,
    #[error("Another change to this subscription is in progress; retry in a few seconds.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

impl From<LaunchError> for SubscriptionError {
    fn from(err: LaunchError) -> Self {
        match err {
            LaunchError::Store(e) => Self::Store(e),
            LaunchError::Payment(e) => Self::Payment(e),
            LaunchError::Money(_) | LaunchError::Invalid(_) => {
                Self::Payment(PaymentError::Unexpected("a usable launch schedule"))
            }
        }
    }
}

impl From<ApplyError> for SubscriptionError {
    fn from(err: ApplyError) -> Self {
        match err {
            ApplyError::Store(e) => Self::Store(e),
            // Stripe carried the request out but answered with something unusable.
            ApplyError::Invalid(_) => Self::Payment(PaymentError::Unexpected("a usable subscription")),
            ApplyError::Raced(key) => Self::Store(StoreError::Dynamo {
                operation: "PutItem",
                message: format!("subscription changed concurrently while applying {key}"),
            }),
        }
    }
}

/// Who asks, and the key that makes a retried request one request at Stripe.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub user: &'a str,
    pub idempotency_key: &'a str,
}

fn stripe(app: &App) -> Result<&StripeApi, SubscriptionError> {
    app.stripe().ok_or(SubscriptionError::Payment(PaymentError::NotConfigured))
}

/// Runs `work` holding the organization's subscription lock.
async fn one_at_a_time<T, Fut>(
    app: &App,
    org: &OrganizationId,
    work: impl FnOnce() -> Fut,
) -> Result<T, SubscriptionError>
where
    Fut: Future<Output = Result<T, SubscriptionError>>,
{
    let token = uuid::Uuid::new_v4().to_string();
    let started = std::time::Instant::now();
    loop {
        let now = app.now();
        if app.store.try_lock_subscription(org, &token, now, now + chrono::Duration::seconds(LOCK_SECONDS)).await? {
            break;
        }
        if started.elapsed() > LOCK_WAIT {
            return Err(SubscriptionError::Busy);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outcome = work().await;
    // The lock expires on its own; failing to give it back only delays the next request.
    if let Err(err) = app.store.unlock_subscription(org, &token).await {
        tracing::warn!(org = %org, error = %err, "subscription lock not released; it expires shortly");
    }
    outcome
}

/// The subscription a request can act on: the organization's Stripe subscription, not ended.
fn live(sub: Option<SubscriptionItem>, now: DateTime<Utc>) -> Result<(SubscriptionItem, String), SubscriptionError> {
    let sub = sub.ok_or(SubscriptionError::NoSubscription)?;
    let id = sub.stripe_subscription_id.clone().ok_or(SubscriptionError::NoSubscription)?;
    let ran_out = sub.cancel_at_period_end && sub.current_period_end.is_some_and(|end| end <= now);
    if lifecycle::is_terminal(&sub.status) || ran_out {
        return Err(SubscriptionError::Ended);
    }
    Ok((sub, id))
}

/// Applies Stripe's answer to our request as the subscription's newest state.
async fn apply_answer(
    app: &App,
    org: &OrganizationId,
    answer: &Value,
    status: &str,
    key: &str,
) -> Result<(), SubscriptionError> {
    match apply_subscription(app, org, answer, status, Origin::Answer { key, at: app.now() }).await {
        // A webhook wrote meanwhile; it carries Stripe's state too.
        Err(ApplyError::Raced(_)) => Ok(()),
        other => Ok(other?),
    }
}

/// Drops a downgrade scheduled earlier (its Stripe schedule is released), so a new request
/// starts from the subscription as it is.
async fn drop_scheduled_change(app: &App, org: &OrganizationId, sub_id: &str) -> Result<(), SubscriptionError> {
    let Some(request) = app.store.subscription_request(org).await? else { return Ok(()) };
    if request.subscription_id != sub_id || request.request != Request::Downgrade {
        return Ok(());
    }
    if let Some(schedule) = &request.schedule_id {
        stripe(app)?.release_schedule(schedule, &format!("release-{schedule}")).await?;
    }
    app.store.clear_subscription_request(org, request.requested_at).await?;
    Ok(())
}

pub async fn cancel(
    app: &App,
    org: &OrganizationId,
    asker: Asker<'_>,
    at_period_end: bool,
    reason: Option<String>,
) -> Result<SubscriptionResponse, SubscriptionError> {
    one_at_a_time(app, org, || async {
        let (sub, sub_id) = live(app.store.subscription(org).await?, app.now())?;
        if at_period_end && sub.cancel_at_period_end {
            return Ok(view::subscription(app, org).await?);
        }
        let stripe = stripe(app)?;
        drop_scheduled_change(app, org, &sub_id).await?;
        launch_offers::end_offer(app, org, &sub_id, "canceled").await?;
        let (kind, key) = if at_period_end {
            (Request::CancelAtPeriodEnd, format!("{org}-cancel-{}", asker.idempotency_key))
        } else {
            (Request::CancelNow, format!("{org}-cancel-now-{}", asker.idempotency_key))
        };
        let answer = if at_period_end {
            stripe.set_cancel_at_period_end(&sub_id, true, &key).await?
        } else {
            stripe.cancel_now(&sub_id, &key).await?
        };
        let mut request = SubscriptionRequest::new(org, &sub_id, kind, asker.user, app.now());
        request.reason = reason;
        app.store.put_subscription_request(&request).await?;
        let answered = answer["status"].as_str().unwrap_or("active");
        // A successful cancellation has ended the subscription whatever else the answer says.
        let status = if at_period_end || lifecycle::is_terminal(answered) { answered } else { "canceled" };
        apply_answer(app, org, &answer, status, &key).await?;
        crate::telemetry::audit(org, "subscription_canceled", &format!("{sub_id} at_period_end={at_period_end}"));
        Ok(view::subscription(app, org).await?)
    })
    .await
}

pub async fn reactivate(
    app: &App,
    org: &OrganizationId,
    asker: Asker<'_>,
) -> Result<SubscriptionResponse, SubscriptionError> {
    one_at_a_time(app, org, || async {
        let (sub, sub_id) = live(app.store.subscription(org).await?, app.now())?;
        if !sub.cancel_at_period_end {
            // Nothing to undo (or a retry of a reactivation that went through).
            return Ok(view::subscription(app, org).await?);
        }
        let key = format!("{org}-reactivate-{}", asker.idempotency_key);
        let answer = stripe(app)?.set_cancel_at_period_end(&sub_id, false, &key).await?;
        let request = SubscriptionRequest::new(org, &sub_id, Request::Reactivate, asker.user, app.now());
        app.store.put_subscription_request(&request).await?;
        apply_answer(app, org, &answer, answer["status"].as_str().unwrap_or(&sub.status), &key).await?;
        if let Some(answer) = launch_offers::after_reactivation(app, org, &sub_id, &key).await? {
            apply_answer(app, org, &answer, answer["status"].as_str().unwrap_or(&sub.status), &key).await?;
        }
        crate::telemetry::audit(org, "subscription_reactivated", &sub_id);
        Ok(view::subscription(app, org).await?)
    })
    .await
}

/// The tier a change asks for, with its Stripe price.
fn target<'a>(app: &'a App, tier: &str) -> Result<(&'a Tier, &'a str), SubscriptionError> {
    let catalog = app.catalog();
    let offered = || catalog.tiers.iter().filter(|t| t.is_subscribable()).map(|t| t.id.to_string()).collect::<Vec<_>>();
    let found =
        catalog.tier(tier).ok_or_else(|| SubscriptionError::InvalidTier(tier.to_owned(), offered().join(", ")))?;
    if found.billing == TierBilling::Free {
        return Err(SubscriptionError::ToFree);
    }
    if !found.is_subscribable() {
        return Err(SubscriptionError::InvalidTier(tier.to_owned(), offered().join(", ")));
    }
    let price = app.config.stripe.tier_prices.get(tier).ok_or_else(|| SubscriptionError::NoPrice(tier.to_owned()))?;
    Ok((found, price.as_str()))
}

/// What a change from the stored subscription to `to` would be.
fn planned(app: &App, sub: &SubscriptionItem, to: &Tier) -> Result<Direction, SubscriptionError> {
    if sub.status == "past_due" {
        return Err(SubscriptionError::PastDue);
    }
    if sub.cancel_at_period_end {
        return Err(SubscriptionError::CancellationPending);
    }
    if sub.tier == to.id.as_str() {
        return Err(SubscriptionError::SameTier(sub.tier.clone()));
    }
    let monthly = |t: Option<&Tier>| t.and_then(|t| t.price_usd).unwrap_or_default();
    Ok(lifecycle::direction(monthly(app.catalog().tier(&sub.tier)), monthly(Some(to))))
}

/// The subscription's item (the one price it bills) and the period, as Stripe has them now.
struct LiveItem {
    item: String,
    price: String,
    period_start: Option<i64>,
    period_end: Option<i64>,
}

async fn live_item(stripe: &StripeApi, sub_id: &str) -> Result<LiveItem, SubscriptionError> {
    let live = stripe.subscription(sub_id).await?;
    let item = &live["items"]["data"][0];
    let id = item["id"].as_str().ok_or(PaymentError::Unexpected("subscription item"))?;
    Ok(LiveItem {
        item: id.to_owned(),
        price: item["price"]["id"].as_str().unwrap_or_default().to_owned(),
        period_start: live["current_period_start"].as_i64().or(item["current_period_start"].as_i64()),
        period_end: live["current_period_end"].as_i64().or(item["current_period_end"].as_i64()),
    })
}

pub async fn change(
    app: &App,
    org: &OrganizationId,
    asker: Asker<'_>,
    tier: &str,
) -> Result<SubscriptionResponse, SubscriptionError> {
    let (to, price) = target(app, tier)?;
    one_at_a_time(app, org, || async {
        let (sub, sub_id) = live(app.store.subscription(org).await?, app.now())?;
        let direction = planned(app, &sub, to)?;
        let stripe = stripe(app)?;
        drop_scheduled_change(app, org, &sub_id).await?;
        launch_offers::end_offer(app, org, &sub_id, "plan_changed").await?;
        let live = live_item(stripe, &sub_id).await?;
        let key = format!("{org}-change-{tier}-{}", asker.idempotency_key);
        let now = app.now();
        match direction {
            Direction::Upgrade => {
                let answer = stripe.change_price_now(&sub_id, &live.item, price, &key).await?;
                let mut request = SubscriptionRequest::new(org, &sub_id, Request::Upgrade, asker.user, now);
                request.tier = Some(tier.to_owned());
                app.store.put_subscription_request(&request).await?;
                // Paid at once, the answer carries the new price and the tier rises now;
                // otherwise it rises when Stripe reports the payment.
                apply_answer(app, org, &answer, answer["status"].as_str().unwrap_or(&sub.status), &key).await?;
            }
            Direction::Downgrade => {
                // The stored period unless it has run out (a renewal event still on its way).
                let (period_start, period_end) = match (sub.current_period_start, sub.current_period_end) {
                    (Some(start), Some(end)) if end > now => (start.timestamp(), end.timestamp()),
                    _ => match (live.period_start, live.period_end) {
                        (Some(start), Some(end)) => (start, end),
                        _ => return Err(PaymentError::Unexpected("the subscription's current period").into()),
                    },
                };
                let change = ScheduledChange {
                    subscription: &sub_id,
                    current_price: &live.price,
                    next_price: price,
                    period_start,
                    period_end,
                };
                let schedule = stripe.schedule_price_change(&change, &key).await?;
                let mut request = SubscriptionRequest::new(org, &sub_id, Request::Downgrade, asker.user, now);
                request.tier = Some(tier.to_owned());
                request.schedule_id = Some(schedule);
                request.effective_at = super::apply::at(Some(period_end));
                app.store.put_subscription_request(&request).await?;
            }
        }
        crate::telemetry::audit(org, "subscription_change_requested", &format!("{sub_id} to {tier} ({direction:?})"));
        Ok(view::subscription(app, org).await?)
    })
    .await
}

/// What changing to `tier` would cost now and from the next period, changing nothing.
pub async fn preview(app: &App, org: &OrganizationId, tier: &str) -> Result<ChangePreviewResponse, SubscriptionError> {
    let (to, price) = target(app, tier)?;
    let (sub, sub_id) = live(app.store.subscription(org).await?, app.now())?;
    let direction = planned(app, &sub, to)?;
    let (amount_due_now, effective_at) = match direction {
        Direction::Upgrade => {
            let stripe = stripe(app)?;
            let live = live_item(stripe, &sub_id).await?;
            let account = app.store.get_account(org).await?;
            let customer = account.and_then(|a| a.stripe_customer_id).ok_or(SubscriptionError::NoSubscription)?;
            let invoice = stripe.preview_price_change(&customer, &sub_id, &live.item, price).await?;
            (dollars(invoice["amount_due"].as_i64().unwrap_or_default()), Some(app.now()))
        }
        Direction::Downgrade => (rust_decimal::Decimal::ZERO, sub.current_period_end),
    };
    Ok(ChangePreviewResponse {
        organization_id: org.to_string(),
        from_tier: sub.tier.clone(),
        to_tier: tier.to_owned(),
        direction: match direction {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
        .to_owned(),
        amount_due_now,
        next_period_amount: to.price_usd.unwrap_or_default(),
        effective_at,
        currency: app.catalog().currency.clone(),
    })
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::subscriptions::flow::manage::SubscriptionError> for crate::error::ApiError {
    fn from(err: crate::subscriptions::flow::manage::SubscriptionError) -> Self {
        use crate::subscriptions::flow::manage::SubscriptionError as E;
        let conflict = |code: &'static str, err: &E| Self::Conflict { code, detail: err.to_string() };
        match err {
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
            E::InvalidTier(..) => Self::bad_request("invalid_tier", err.to_string()),
            E::ToFree => Self::bad_request("use_cancel", err.to_string()),
            E::NoSubscription => conflict("no_subscription", &err),
            E::Ended => conflict("subscription_ended", &err),
            E::CancellationPending => conflict("cancellation_pending", &err),
            E::SameTier(_) => conflict("same_tier", &err),
            E::NoPrice(_) => conflict("tier_unavailable", &err),
            E::PastDue => conflict("subscription_past_due", &err),
            E::Busy => {
                Self::TooManyRequests { code: "subscription_busy", detail: err.to_string(), retry_after_secs: 2 }
            }
        }
    }
}
