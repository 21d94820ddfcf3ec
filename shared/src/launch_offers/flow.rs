//! Launch offers: a subscription bought inside a tier's launch window is sold at the first
//! intro price by Checkout, and once Stripe reports the session paid, a subscription schedule
//! takes it through the remaining phases to the tier's price. Changing plan or cancelling
//! during the phases ends the offer: the schedule is released and the change applies as for
//! any subscription; a cancelled subscription that is reactivated renews at the tier's price.

use serde_json::Value;

use crate::App;
use crate::catalog::rules::{LaunchOffer, Tier};
use crate::launch_offers::rules::{self as launch, PricePhase};
use crate::launch_offers::store::LaunchSchedule;
use crate::launch_offers::stripe::LaunchPlan;
use crate::money::exact_cents;
use crate::payments::client::CheckoutItem;
use crate::payments::{PaymentError, StripeApi};
use crate::store::StoreError;
use crate::{ids::OrganizationId, money::MoneyError};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("the launch offer's subscription is not usable: {0}")]
    Invalid(String),
}

/// What Checkout sells for a subscription to `tier` (Stripe price `price`) bought now: the
/// launch offer's first phase while the offer is open, else the tier's price.
pub async fn subscription_item<'a>(
    app: &App,
    stripe: &StripeApi,
    tier: &'a Tier,
    price: &str,
) -> Result<(CheckoutItem, Option<&'a LaunchOffer>), LaunchError> {
    let Some(offer) = tier.launch_offer_at(app.now()) else {
        return Ok((CheckoutItem::Price(price.to_owned()), None));
    };
    let first = offer.phases.first().ok_or_else(|| LaunchError::Invalid("offer without phases".into()))?;
    let product = stripe.product_of_price(price).await?;
    Ok((CheckoutItem::Monthly { cents: exact_cents(first.price_usd)?, product }, Some(offer)))
}

/// The tier a subscription sold under a launch offer belongs to: its intro prices are
/// Checkout's own, so the tier comes from the metadata we gave the subscription.
pub fn offered_tier<'a>(app: &'a App, sub: &Value) -> Option<&'a str> {
    let offer = sub["metadata"]["launch_offer"].as_str()?;
    let tier = app.catalog().tier(sub["metadata"]["tier"].as_str()?)?;
    let ours = tier.launch_offer.as_ref().is_some_and(|o| o.id == offer);
    ours.then_some(tier.id.as_str())
}

/// After a launch-offer Checkout is paid: the subscription's schedule from the catalog's
/// phases, recorded for the subscription view. Keyed by the session, so redeliveries make
/// one schedule.
pub async fn on_checkout_paid(app: &App, org: &OrganizationId, session: &Value) -> Result<(), LaunchError> {
    let Some(offer_id) = session["metadata"]["launch_offer"].as_str() else { return Ok(()) };
    let tier_id = session["metadata"]["tier"].as_str().unwrap_or_default();
    let sub_id = session["subscription"]
        .as_str()
        .or_else(|| session["subscription"]["id"].as_str())
        .ok_or_else(|| LaunchError::Invalid("paid launch checkout without a subscription".into()))?;
    if app.store.launch_schedule(org).await?.is_some_and(|s| s.subscription_id == sub_id) {
        return Ok(());
    }
    let tier = app.catalog().tier(tier_id).ok_or_else(|| LaunchError::Invalid(format!("unknown tier {tier_id:?}")))?;
    let full_price = app
        .config
        .stripe
        .tier_prices
        .get(tier_id)
        .ok_or_else(|| LaunchError::Invalid(format!("tier {tier_id} has no Stripe price")))?;
    let full_cents = exact_cents(tier.price_usd.unwrap_or_default())?;
    let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
    let live = stripe.subscription(sub_id).await?;
    let item = &live["items"]["data"][0];
    let current_price = item["price"]["id"].as_str().ok_or(PaymentError::Unexpected("subscription price"))?;
    let start = live["current_period_start"]
        .as_i64()
        .or(item["current_period_start"].as_i64())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .ok_or(PaymentError::Unexpected("the subscription's current period"))?;
    // An offer since taken out of the catalog still ends: at the tier's price after the
    // period already paid.
    let phases = match tier.launch_offer.as_ref().filter(|o| o.id == offer_id) {
        Some(offer) => launch::phases(offer, full_cents, start)?,
        None => already_paid_then_full(item, start, full_cents),
    };
    let product = stripe.product_of_price(full_price).await?;
    let plan = LaunchPlan { subscription: sub_id, current_price, full_price, product: &product, phases: &phases };
    let session_id = session["id"].as_str().unwrap_or(sub_id);
    let schedule = stripe.apply_launch_schedule(&plan, &format!("launch-{session_id}")).await?;
    let name = tier.launch_offer.as_ref().map_or(offer_id, |o| o.name.as_str());
    let record = LaunchSchedule::new(org, (offer_id, name, tier_id), (sub_id, &schedule), phases, app.now());
    app.store.put_launch_schedule(&record).await?;
    tracing::info!(org = %org, subscription = sub_id, schedule = %schedule, offer = offer_id, "launch schedule in place");
    Ok(())
}

fn already_paid_then_full(item: &Value, start: chrono::DateTime<chrono::Utc>, full_cents: i64) -> Vec<PricePhase> {
    let end = item["current_period_end"].as_i64().and_then(|s| chrono::DateTime::from_timestamp(s, 0));
    let paid = item["price"]["unit_amount"].as_i64().unwrap_or_default();
    let mut phases = vec![PricePhase { price_cents: paid, starts_at: start, ends_at: end, intro: true }];
    if let Some(end) = end {
        phases.push(PricePhase { price_cents: full_cents, starts_at: end, ends_at: None, intro: false });
    }
    phases
}

/// Ends the offer of `sub_id` before a plan change or a cancellation: the schedule is
/// released (the subscription stays as it is now) and the record says why.
pub async fn end_offer(app: &App, org: &OrganizationId, sub_id: &str, because: &str) -> Result<(), LaunchError> {
    let Some(mut record) = app.store.launch_schedule(org).await?.filter(|r| r.drives(sub_id)) else {
        return Ok(());
    };
    let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
    match stripe.release_schedule(&record.schedule_id, &format!("release-{}", record.schedule_id)).await {
        // Stripe already let go of a schedule whose phases ran out.
        Ok(()) | Err(PaymentError::NotFound(_)) => {}
        Err(err) => return Err(err.into()),
    }
    record.ended_at = Some(app.now());
    record.ended_because = Some(because.to_owned());
    app.store.put_launch_schedule(&record).await?;
    tracing::info!(org = %org, subscription = sub_id, because, "launch offer ended");
    Ok(())
}

/// A reactivated subscription whose offer a cancellation ended renews at the tier's price
/// (the released schedule left it on an intro price). Returns Stripe's answer if it changed.
pub async fn after_reactivation(
    app: &App,
    org: &OrganizationId,
    sub_id: &str,
    key: &str,
) -> Result<Option<Value>, LaunchError> {
    let Some(record) = app.store.launch_schedule(org).await? else { return Ok(None) };
    let ended_by_cancel = record.subscription_id == sub_id && record.ended_because.as_deref() == Some("canceled");
    let still_intro = record.phases.iter().any(|p| p.intro && p.ends_at.is_some_and(|end| end > app.now()));
    if !ended_by_cancel || !still_intro {
        return Ok(None);
    }
    let Some(full_price) = app.config.stripe.tier_prices.get(&record.tier) else { return Ok(None) };
    let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
    let live = stripe.subscription(sub_id).await?;
    let item = live["items"]["data"][0]["id"].as_str().ok_or(PaymentError::Unexpected("subscription item"))?;
    let answer = stripe.set_price_from_renewal(sub_id, item, full_price, &format!("{key}-full-price")).await?;
    Ok(Some(answer))
}
