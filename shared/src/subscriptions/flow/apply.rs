//! Applying a Stripe subscription's state, whether a webhook event or Stripe's answer to our
//! own request carried it, and moving the account to the plan that state gives.
//!
//! Events of the organization's current subscription apply in [`lifecycle::event_rank`]
//! order (the conditional write enforces it); an event of another subscription applies only
//! if [`lifecycle::replaces`] says that subscription takes over. The tier follows the stored
//! state through [`lifecycle::plan`]: the subscribed tier while it grants service, else
//! lifetime if bought, else free.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use crate::App;
use crate::catalog::rules::TierBilling;
use crate::store::StoreError;
use crate::stripe_events::store::{Explanation, PlanChange, SubscriptionGuard, SubscriptionItem, subscription_key};
use crate::subscriptions::rules::{self as lifecycle, Asked, ChangeCause, Current, Other, Plan, Subscribed};
use crate::subscriptions::store::SubscriptionRequest;
use crate::{ids::OrganizationId, period};

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The state can never be applied (no id, an unknown price).
    #[error("{0}")]
    Invalid(String),
    /// The stored state changed between our read and our write: decide again.
    #[error("subscription state changed while applying {0}")]
    Raced(String),
}

/// Where a subscription state comes from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A webhook event: its id, type and `created`.
    Event { id: &'a str, kind: &'a str, created: i64 },
    /// Stripe's answer to our request, keyed by the request's idempotency key.
    Answer { key: &'a str, at: DateTime<Utc> },
}

impl Origin<'_> {
    fn key(&self) -> &str {
        match self {
            Origin::Event { id, .. } => id,
            Origin::Answer { key, .. } => key,
        }
    }

    fn created(&self) -> i64 {
        match self {
            Origin::Event { created, .. } => *created,
            Origin::Answer { at, .. } => at.timestamp(),
        }
    }
}

pub fn at(seconds: Option<i64>) -> Option<DateTime<Utc>> {
    seconds.and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// Applies `status` and the rest of `sub` (a Stripe subscription object) for `org`.
pub async fn apply_subscription(
    app: &App,
    org: &OrganizationId,
    sub: &Value,
    status: &str,
    origin: Origin<'_>,
) -> Result<(), ApplyError> {
    let sub_id = sub["id"].as_str().ok_or_else(|| ApplyError::Invalid("subscription without id".into()))?;
    let item = &sub["items"]["data"][0];
    let price = item["price"]["id"].as_str().unwrap_or_default();
    let created = origin.created();
    let rank = lifecycle::event_rank(created, status);
    let now = app.now();
    let existing = app.store.subscription(org).await?;
    let same = existing.as_ref().filter(|e| e.stripe_subscription_id.as_deref() == Some(sub_id));
    let priced = app.config.stripe.tier_for_price(price).or_else(|| crate::launch_offers::flow::offered_tier(app, sub));
    let tier = match (priced, origin, same) {
        (Some(tier), _, _) => tier.to_owned(),
        // Our own request changed nothing about the price: the stored tier stands.
        (None, Origin::Answer { .. }, Some(same)) => same.tier.clone(),
        (None, _, _) => return Err(ApplyError::Invalid(format!("price {price:?} is not a configured tier"))),
    };
    if status == "trialing" {
        // The organization's one trial, recorded however this event is ordered or repeated.
        let window = (at(sub["trial_start"].as_i64()), at(sub["trial_end"].as_i64()));
        let trial = crate::subscriptions::store::trials::TrialRecord::new(org, &tier, sub_id, window, now);
        if app.store.record_trial(&trial).await? {
            tracing::info!(org = %org, subscription = sub_id, tier = %tier, "trial recorded");
        }
    }
    let subscribed_at = same.and_then(|s| s.subscribed_at).or(sub["created"].as_i64()).unwrap_or(created);
    // Newer API versions keep the period on the item. Our own requests never move the
    // period (only renewals, which events report), so an answer keeps the stored one.
    let reported = |field: &str| at(sub[field].as_i64().or(item[field].as_i64()));
    let (period_start, period_end) = match (origin, same) {
        (Origin::Answer { .. }, Some(same)) => (same.current_period_start, same.current_period_end),
        _ => (reported("current_period_start"), reported("current_period_end")),
    };
    let current = existing.as_ref().and_then(|e| {
        e.stripe_subscription_id.as_deref().map(|id| Current {
            subscription_id: id,
            status: e.status.as_str(),
            subscribed_at: e.subscribed_at.unwrap_or(e.source_event_created),
        })
    });
    let guard = match &current {
        Some(c) if c.subscription_id == sub_id => {
            if !lifecycle::applies_over(rank, existing.as_ref().and_then(|e| e.order_rank)) {
                tracing::info!(org = %org, created, status, "older subscription state ignored; newer state already applied");
                return Ok(());
            }
            SubscriptionGuard::Newer
        }
        _ => {
            if !lifecycle::replaces(current.as_ref(), &Other { status, subscribed_at }) {
                tracing::info!(org = %org, subscription = sub_id, status, "state of a subscription that is not the current one; tier unchanged");
                return Ok(());
            }
            SubscriptionGuard::Replacing {
                subscription_id: current.as_ref().map(|c| c.subscription_id),
                rank: existing.as_ref().and_then(|e| e.order_rank),
            }
        }
    };
    let key = subscription_key(org);
    let state = SubscriptionItem {
        pk: key.pk,
        sk: key.sk,
        organization_id: org.clone(),
        stripe_subscription_id: Some(sub_id.to_owned()),
        stripe_price_id: Some(price.to_owned())
            .filter(|p| !p.is_empty())
            .or(same.and_then(|s| s.stripe_price_id.clone())),
        tier,
        status: status.to_owned(),
        current_period_start: period_start,
        current_period_end: period_end,
        cancel_at_period_end: sub["cancel_at_period_end"].as_bool().unwrap_or(false),
        canceled_at: at(sub["canceled_at"].as_i64()),
        trial_start: at(sub["trial_start"].as_i64()),
        trial_end: at(sub["trial_end"].as_i64()),
        is_lifetime: existing.as_ref().is_some_and(|e| e.is_lifetime),
        lifetime_purchase_date: existing.as_ref().and_then(|e| e.lifetime_purchase_date),
        lifetime_purchase_amount_cents: existing.as_ref().and_then(|e| e.lifetime_purchase_amount_cents),
        source_event_created: created,
        order_rank: Some(rank),
        subscribed_at: Some(subscribed_at),
        created_at: existing.as_ref().map_or(now, |e| e.created_at),
        updated_at: now,
    };
    if !app.store.put_subscription(&state, guard).await? {
        let now_stored = app.store.subscription(org).await?;
        let outranked = now_stored.as_ref().is_some_and(|s| {
            s.stripe_subscription_id.as_deref() == Some(sub_id) && !lifecycle::applies_over(rank, s.order_rank)
        });
        if outranked {
            tracing::info!(org = %org, created, status, "older subscription state ignored; newer state already applied");
            return Ok(());
        }
        // Another subscription or a lifetime purchase was written meanwhile: decide again.
        return Err(ApplyError::Raced(origin.key().to_owned()));
    }
    let plan = lifecycle::plan(subscribed(&state), lifetime_since(&state));
    // A serving subscription's quota runs by its own period; otherwise by the calendar month.
    let period = match plan {
        Plan::Subscribed(_) => period_start.map(|p| p.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        _ => Some(period::month_key(now)),
    };
    let changed_at = at(Some(created)).unwrap_or(now);
    let from = app.store.get_account(org).await?.map(|a| a.tier.as_str().to_owned());
    let to = tier_of(app, plan);
    let Some(from) = from.filter(|from| *from != to) else {
        // Same plan (a renewal, a cancellation scheduled): nothing to explain.
        return Ok(app.store.set_account_tier(org, &to, period.as_deref(), now).await?);
    };
    let (why, fulfilled) = explain(app, org, sub_id, &state, &from, &to, origin).await?;
    let change = PlanChange::new(org, &from, &to, changed_at, origin.key(), why, now);
    let changed = app.store.change_plan(&change, period.as_deref(), now).await?;
    tracing::info!(org = %org, from = %from, to = %to, cause = ?change.cause, changed, "plan changed");
    // Forgotten only once the change it explains is written: a retry still finds it.
    if let Some(request) = fulfilled {
        app.store.clear_subscription_request(org, request.requested_at).await?;
    }
    Ok(())
}

/// Why the new state moves the plan from `from` to `to`: the customer's request it fulfils
/// (returned, to be forgotten once the change is written) or the status.
async fn explain(
    app: &App,
    org: &OrganizationId,
    sub_id: &str,
    state: &SubscriptionItem,
    from: &str,
    to: &str,
    origin: Origin<'_>,
) -> Result<(Explanation, Option<SubscriptionRequest>), ApplyError> {
    let request = app.store.subscription_request(org).await?.filter(|r| r.subscription_id == sub_id);
    let asked = request.as_ref().map(|r| Asked { request: r.request, tier: r.tier.as_deref() });
    let from_subscribed = app.catalog().tier(from).is_some_and(|t| t.billing == TierBilling::Monthly);
    let (cause, fulfilled) = lifecycle::cause_of(&state.status, from_subscribed, to, asked);
    let fulfilled = request.filter(|_| fulfilled);
    let actor = fulfilled.as_ref().map_or_else(|| "stripe".to_owned(), |r| r.requested_by.clone());
    let reason = match origin {
        Origin::Event { kind, .. } => format!("{kind}: subscription {sub_id} is {}", state.status),
        Origin::Answer { .. } => format!("Stripe confirmed subscription {sub_id} is {}", state.status),
    };
    Ok((Explanation { cause, actor, reason }, fulfilled))
}

/// The stored subscription's part in choosing the plan (none for a lifetime-only item).
pub fn subscribed(sub: &SubscriptionItem) -> Option<Subscribed<'_>> {
    sub.stripe_subscription_id.as_ref().map(|_| Subscribed {
        tier: sub.tier.as_str(),
        status: sub.status.as_str(),
        subscribed_at: sub.subscribed_at.unwrap_or(sub.source_event_created),
    })
}

pub fn lifetime_since(sub: &SubscriptionItem) -> Option<i64> {
    sub.is_lifetime.then(|| sub.lifetime_purchase_date.map_or(0, |d| d.timestamp()))
}

fn tier_of(app: &App, plan: Plan<'_>) -> String {
    match plan {
        Plan::Subscribed(tier) => tier.to_owned(),
        Plan::Lifetime => "lifetime".to_owned(),
        Plan::Free => app.catalog().free_tier.to_string(),
    }
}

/// Puts the account on `plan`; a change of tier is written with its history entry, keyed by
/// `key` (the event or request) so a repetition records nothing twice.
pub async fn move_to_plan(
    app: &App,
    org: &OrganizationId,
    plan: Plan<'_>,
    usage_period: Option<&str>,
    key: &str,
    changed_at: DateTime<Utc>,
    why: Explanation,
) -> Result<(), ApplyError> {
    let to = tier_of(app, plan);
    let now = app.now();
    let from = app.store.get_account(org).await?.map(|a| a.tier.as_str().to_owned());
    match from {
        Some(from) if from != to => {
            let cause = why.cause;
            let change = PlanChange::new(org, &from, &to, changed_at, key, why, now);
            let changed = app.store.change_plan(&change, usage_period, now).await?;
            tracing::info!(org = %org, from = %from, to = %to, ?cause, changed, "plan changed");
        }
        _ => app.store.set_account_tier(org, &to, usage_period, now).await?,
    }
    Ok(())
}

/// A history explanation for changes that are not a subscription's (lifetime, operators).
pub fn because(cause: ChangeCause, actor: &str, reason: impl Into<String>) -> Explanation {
    Explanation { cause, actor: actor.to_owned(), reason: reason.into() }
}
