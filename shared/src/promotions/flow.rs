//! Promotion codes: operators create (mirrored to a Stripe coupon and promotion code), list
//! and deactivate them; a checkout holds one redemption while its session is open, and the
//! session's outcome counts it (`checkout.session.completed`) or gives it back
//! (`checkout.session.expired`, or Stripe refusing to open the session).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::App;
use crate::ids::OrganizationId;
use crate::operators::flow::Operator;
use crate::operators::rules::audit::AuditEntry;
use crate::payments::PaymentError;
use crate::promotions::rules::{PromoCodeName, PromoError, PromoRequest, PromoTarget, Refusal, Standing};
use crate::promotions::store::{PromoCodeItem, PromoRedemption, RedemptionState};
use crate::store::StoreError;

/// Attempts at a hold while other checkouts move the code's count.
const ATTEMPTS: u32 = 8;

/// How long a checkout with a code stays open, so an abandoned checkout gives its redemption
/// back soon: just over Stripe's shortest (30 minutes from the session's creation, which
/// comes a moment after the hold).
pub const HELD_CHECKOUT_MINUTES: i64 = 31;

#[derive(Debug, thiserror::Error)]
pub enum PromoCodesError {
    #[error(transparent)]
    Invalid(#[from] PromoError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("Promo code {0} already exists.")]
    Exists(PromoCodeName),
    #[error("No promo code {0} exists.")]
    NotFound(PromoCodeName),
    #[error("The promo code kept changing; retry.")]
    Busy,
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates the code: Stripe's coupon and promotion code first, then ours with its audit
/// entry, so a stored code always has its Stripe mirror.
pub async fn create(
    app: &App,
    request: &PromoRequest,
    operator: Operator<'_>,
) -> Result<PromoCodeItem, PromoCodesError> {
    let definition = request.definition(app.catalog(), app.now())?;
    if app.store.promo_code(&definition.code).await?.is_some() {
        return Err(PromoCodesError::Exists(definition.code));
    }
    let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
    let mirror = stripe.create_promotion(&definition).await?;
    let now = app.now();
    let item = PromoCodeItem::new(definition, mirror, operator.subject, now);
    let after = serde_json::to_value(&item.definition).unwrap_or_default();
    let entry = AuditEntry::for_promo_code(
        &item.definition.code,
        operator.subject,
        "promo_code_created",
        "",
        (Value::Null, after),
        now,
    );
    if !app.store.create_promo_code(&item, &entry).await? {
        return Err(PromoCodesError::Exists(item.definition.code));
    }
    tracing::info!(promo_code = %item.definition.code, operator = operator.subject, "promo code created");
    Ok(item)
}

pub async fn list(app: &App) -> Result<Vec<PromoCodeItem>, PromoCodesError> {
    Ok(app.store.list_promo_codes().await?)
}

/// Turns the code off in Stripe and here; checkouts already open keep their discount.
/// Deactivating an inactive code changes nothing.
pub async fn deactivate(app: &App, raw: &str, operator: Operator<'_>) -> Result<PromoCodeItem, PromoCodesError> {
    let code = PromoCodeName::parse(raw)?;
    let item = app.store.promo_code(&code).await?.ok_or_else(|| PromoCodesError::NotFound(code.clone()))?;
    if !item.active {
        return Ok(item);
    }
    let stripe = app.stripe().ok_or(PaymentError::NotConfigured)?;
    stripe.deactivate_promotion_code(&item.stripe_promotion_code_id).await?;
    let now = app.now();
    let change = (serde_json::json!({ "active": true }), serde_json::json!({ "active": false }));
    let entry = AuditEntry::for_promo_code(&code, operator.subject, "promo_code_deactivated", "", change, now);
    if app.store.deactivate_promo_code(&code, now, &entry).await? {
        tracing::info!(promo_code = %code, operator = operator.subject, "promo code deactivated");
    }
    app.store.promo_code(&code).await?.ok_or(PromoCodesError::NotFound(code))
}

/// A redemption held for one checkout.
#[derive(Debug, Clone)]
pub struct Held {
    pub redemption: PromoRedemption,
    pub stripe_promotion_code_id: String,
}

impl Held {
    /// When the checkout closes; fixed by the hold, so a retried request asks Stripe for the
    /// same session.
    pub fn checkout_expires_at(&self) -> DateTime<Utc> {
        self.redemption.held_at + chrono::Duration::minutes(HELD_CHECKOUT_MINUTES)
    }
}

/// Holds one redemption of `raw` for the organization's checkout of `target`, keyed by the
/// checkout request (`hold_id`): a retried request finds its own hold. Refused with the
/// reason a customer can act on; when 50 organizations race for the last redemption, one
/// hold is written and the others read the code again and are refused as exhausted.
pub async fn hold(
    app: &App,
    org: &OrganizationId,
    raw: &str,
    target: PromoTarget<'_>,
    hold_id: &str,
) -> Result<Held, PromoCodesError> {
    let code = PromoCodeName::parse(raw).map_err(|_| Refusal::Unknown(raw.trim().to_ascii_uppercase()))?;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            crate::store::jittered_pause(attempt).await;
        }
        let (item, existing) = tokio::try_join!(app.store.promo_code(&code), app.store.promo_redemption(&code, org))?;
        let item = item.ok_or_else(|| Refusal::Unknown(code.to_string()))?;
        if let Some(own) = existing.as_ref().filter(|r| r.hold_id == hold_id && r.state == RedemptionState::Held) {
            return Ok(Held { redemption: own.clone(), stripe_promotion_code_id: item.stripe_promotion_code_id });
        }
        let standing = Standing { active: item.active, taken: item.taken, used_by_organization: existing.is_some() };
        item.definition.check(standing, target, app.now())?;
        let redemption = PromoRedemption::held(&code, org, hold_id, target.id(), app.now());
        if app.store.hold_promo_redemption(&redemption).await? {
            tracing::info!(org = %org, promo_code = %code, "promo code redemption held for a checkout");
            return Ok(Held { redemption, stripe_promotion_code_id: item.stripe_promotion_code_id });
        }
    }
    Err(PromoCodesError::Busy)
}

/// Gives a hold back; a hold already released or redeemed is left as it is.
pub async fn release(app: &App, held: &PromoRedemption) -> Result<bool, StoreError> {
    app.store.release_promo_hold(&held.code, &held.organization_id, &held.hold_id).await
}

/// A Checkout session's end, for the code it held (`promo_code` and `promo_hold` in its
/// metadata): paid → counted, expired → given back. Repeated events change nothing.
pub async fn on_checkout_closed(
    app: &App,
    org: &OrganizationId,
    session: &Value,
    paid: bool,
) -> Result<(), StoreError> {
    let metadata = &session["metadata"];
    let (Some(raw), Some(hold_id)) = (metadata["promo_code"].as_str(), metadata["promo_hold"].as_str()) else {
        return Ok(());
    };
    let Ok(code) = PromoCodeName::parse(raw) else {
        tracing::warn!(org = %org, promo_code = raw, "checkout names a promo code that is not one");
        return Ok(());
    };
    let changed = if paid {
        app.store.redeem_promo_hold(&code, org, hold_id, app.now()).await?
    } else {
        app.store.release_promo_hold(&code, org, hold_id).await?
    };
    tracing::info!(org = %org, promo_code = %code, paid, changed, "promo code checkout closed");
    Ok(())
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::promotions::flow::PromoCodesError> for crate::error::ApiError {
    fn from(err: crate::promotions::flow::PromoCodesError) -> Self {
        use crate::promotions::flow::PromoCodesError as E;
        use crate::promotions::rules::PromoError as P;
        match err {
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
            E::Refused(refusal) => Self::bad_request(refusal.code(), refusal.to_string()),
            E::Invalid(ref invalid) => {
                let code = match invalid {
                    P::InvalidCode => "invalid_promo_code",
                    P::DiscountRequired | P::InvalidPercent | P::InvalidAmount => "invalid_discount",
                    P::DurationRequired | P::MonthsRequired | P::MonthsNotAllowed => "invalid_duration",
                    P::InvalidMaxRedemptions => "invalid_max_redemptions",
                    P::ExpiryInPast => "invalid_expiry",
                    P::UnknownTarget(_) => "unknown_promo_target",
                };
                Self::bad_request(code, err.to_string())
            }
            E::Exists(_) => Self::Conflict { code: "promo_code_exists", detail: err.to_string() },
            E::NotFound(_) => Self::not_found("promo_code_not_found", err.to_string()),
            E::Busy => Self::TooManyRequests { code: "promo_code_busy", detail: err.to_string(), retry_after_secs: 1 },
        }
    }
}
