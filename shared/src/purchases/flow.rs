//! Money-in flows started from the frontend: the organization's Stripe customer (created on
//! first need, exactly once), Checkout sessions for credits, packs, lifetime and
//! subscriptions, the customer portal and saved payment methods.
//!
//! Nothing is written locally until Stripe has answered, so a Stripe failure (502) leaves no
//! half-made state behind; what Stripe then reports (webhooks) changes balances and tiers.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::accounts::store::AccountItem;
use crate::ids::OrganizationId;
use crate::payments::StripeApi;
use crate::payments::client::{CheckoutItem, CheckoutSpec};
use crate::promotions::rules::PromoTarget;
use crate::{ApiError, App};
use crate::{launch_offers::flow as launch_offers, promotions::flow as promo_codes};

pub fn stripe(app: &App) -> Result<&StripeApi, ApiError> {
    app.stripe().ok_or_else(|| ApiError::Unavailable("payments are not configured (no Stripe secret key)".into()))
}

pub async fn account(app: &App, org: &OrganizationId) -> Result<AccountItem, ApiError> {
    let catalog = app.catalog();
    let fresh = AccountItem::new_free(org, app.now(), catalog.free_workflows_per_month(), catalog.free_tier.clone());
    Ok(app.store.get_or_create_account(fresh).await?)
}

/// The organization's Stripe customer id, creating the customer on first need. The Stripe
/// idempotency key is derived from the account, so concurrent or retried first calls all get
/// the same customer.
pub async fn ensure_customer(app: &App, org: &OrganizationId) -> Result<String, ApiError> {
    let account = account(app, org).await?;
    if let Some(customer) = account.stripe_customer_id {
        return Ok(customer);
    }
    let customer = stripe(app)?
        .create_customer(org, account.billing_email.as_deref(), &format!("customer-{}", account.id))
        .await?;
    app.store.link_customer(org, &customer, None).await?;
    crate::telemetry::audit(org, "stripe_customer_created", &customer);
    Ok(customer)
}

/// The frontend guide's `CheckoutResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckoutResponse {
    pub checkout_url: String,
    pub session_id: String,
}

/// Where Checkout sends the customer back: the caller's URLs if they are on the frontend's
/// origin (no open redirects), or the frontend's success and cancel pages.
pub fn return_urls(app: &App, success: Option<String>, cancel: Option<String>) -> Result<(String, String), ApiError> {
    let base = app.config.frontend_url.trim_end_matches('/');
    let check = |url: Option<String>, default: String| match url {
        None => Ok(default),
        Some(url) if url == base || url.starts_with(&format!("{base}/")) || url.starts_with(&format!("{base}?")) => {
            Ok(url)
        }
        Some(_) => Err(ApiError::bad_request("invalid_redirect_url", format!("Return URLs must be on {base}."))),
    };
    Ok((
        check(success, format!("{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}"))?,
        check(cancel, format!("{base}/billing/cancel"))?,
    ))
}

/// A Stripe idempotency key for one request: the client's key (its `Idempotency-Key` header
/// when given, so a retried POST returns the same session; otherwise a fresh one), scoped to
/// the organization and what is bought.
pub fn idempotency_key(client_key: &str, org: &OrganizationId, purpose: &str) -> String {
    format!("{org}-{purpose}-{client_key}")
}

/// A promotion code a checkout asks for, and what the checkout sells (the code must apply).
#[derive(Debug, Clone, Copy)]
pub struct Promo<'a> {
    pub code: &'a str,
    pub target: PromoTarget<'a>,
}

/// What one Checkout session sells.
#[derive(Debug, Clone)]
pub struct Sale<'a> {
    /// `credits`, `pack`, `lifetime` or `subscription` (in the metadata webhooks read).
    pub purpose: &'a str,
    pub item: CheckoutItem,
    pub metadata: Vec<(&'a str, String)>,
    pub trial_days: Option<u32>,
    pub promo: Option<Promo<'a>>,
}

impl<'a> Sale<'a> {
    pub fn new(purpose: &'a str, item: CheckoutItem) -> Self {
        Self { purpose, item, metadata: Vec::new(), trial_days: None, promo: None }
    }

    pub fn with_metadata(mut self, key: &'a str, value: impl Into<String>) -> Self {
        self.metadata.push((key, value.into()));
        self
    }

    /// The code the customer typed, if any, for this sale's `target`.
    pub fn with_promo(mut self, code: Option<&'a str>, target: PromoTarget<'a>) -> Self {
        self.promo = code.map(|code| Promo { code, target });
        self
    }
}

/// Starts a subscription's Checkout session for `tier` (its Stripe price `price`): at the
/// launch offer's first price while the offer is open (`flows::launch_offers`), otherwise at
/// the tier's price with the tier's trial while the organization never had one
/// (`store::trials`). The offer is the introduction, so it comes without a trial.
pub async fn subscription_checkout(
    app: &App,
    client_key: &str,
    org: &OrganizationId,
    (tier, price): (&crate::catalog::rules::Tier, &str),
    promo_code: Option<&str>,
    urls: (Option<String>, Option<String>),
) -> Result<CheckoutResponse, ApiError> {
    let (item, offer) =
        launch_offers::subscription_item(app, stripe(app)?, tier, price).await.map_err(|e| match e {
            launch_offers::LaunchError::Payment(e) => ApiError::from(e),
            launch_offers::LaunchError::Store(e) => ApiError::from(e),
            other => ApiError::Internal(other.into()),
        })?;
    let trial_days = match (tier.trial_days, offer) {
        (Some(days), None) if app.store.trial(org).await?.is_none() => Some(days),
        _ => None,
    };
    let mut sale = Sale::new("subscription", item)
        .with_metadata("tier", tier.id.to_string())
        .with_promo(promo_code, PromoTarget::Tier(tier.id.as_str()));
    if let Some(offer) = offer {
        sale = sale.with_metadata("launch_offer", offer.id.clone());
    }
    checkout(app, client_key, org, Sale { trial_days, ..sale }, urls).await
}

/// Starts a Checkout session for `sale`. A promotion code is held for the organization
/// first (refused with its reason, nothing charged); if Stripe then cannot open the
/// session, the hold is given back.
pub async fn checkout(
    app: &App,
    client_key: &str,
    org: &OrganizationId,
    sale: Sale<'_>,
    urls: (Option<String>, Option<String>),
) -> Result<CheckoutResponse, ApiError> {
    let purpose = sale.purpose;
    let (success_url, cancel_url) = return_urls(app, urls.0, urls.1)?;
    let idempotency_key = idempotency_key(client_key, org, purpose);
    let customer = ensure_customer(app, org).await?;
    let mut metadata: HashMap<String, String> =
        HashMap::from([("organization_id".to_owned(), org.to_string()), ("purpose".to_owned(), purpose.to_owned())]);
    metadata.extend(sale.metadata.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let held = match sale.promo {
        Some(promo) => Some(promo_codes::hold(app, org, promo.code, promo.target, &idempotency_key).await?),
        None => None,
    };
    if let Some(held) = &held {
        metadata.insert("promo_code".to_owned(), held.redemption.code.to_string());
        metadata.insert("promo_hold".to_owned(), held.redemption.hold_id.clone());
    }
    let spec = CheckoutSpec {
        customer,
        subscription: purpose == "subscription",
        item: sale.item,
        metadata,
        success_url,
        cancel_url,
        trial_days: sale.trial_days,
        promotion_code: held.as_ref().map(|h| h.stripe_promotion_code_id.clone()),
        expires_at: held.as_ref().map(|h| h.checkout_expires_at().timestamp()),
        idempotency_key,
    };
    let opened = match stripe(app) {
        Ok(stripe) => stripe.create_checkout(spec).await.map_err(ApiError::from),
        Err(err) => Err(err),
    };
    let (checkout_url, session_id) = match (opened, &held) {
        (Ok(opened), _) => opened,
        (Err(err), None) => return Err(err),
        (Err(err), Some(held)) => {
            match promo_codes::release(app, &held.redemption).await {
                Ok(released) => tracing::info!(org = %org, released, "checkout not opened; promo code hold given back"),
                Err(e) => {
                    tracing::error!(org = %org, error = %e, "checkout not opened and its promo code hold not given back")
                }
            }
            return Err(err);
        }
    };
    if let Some(held) = &held
        && let Err(e) = app.store.attach_promo_session(&held.redemption, &session_id).await
    {
        // The session's own metadata names the hold; this is for operators reading the item.
        tracing::warn!(org = %org, error = %e, "promo code hold not linked to its session");
    }
    crate::telemetry::audit(org, "checkout_started", &format!("{purpose} {session_id}"));
    Ok(CheckoutResponse { checkout_url, session_id })
}

/// Starts a Checkout session in setup mode for the organization's customer (created on first
/// need): the customer adds a card and pays nothing. The card arrives with
/// `checkout.session.completed` (`flows::stripe_events`), which makes it the default when
/// the customer has none. Returns by default to the payment methods page.
pub async fn setup_checkout(
    app: &App,
    client_key: &str,
    org: &OrganizationId,
    (success, cancel): (Option<String>, Option<String>),
) -> Result<CheckoutResponse, ApiError> {
    let base = app.config.frontend_url.trim_end_matches('/');
    let (success_url, cancel_url) = return_urls(
        app,
        Some(success.unwrap_or_else(|| format!("{base}/billing/payment-methods?added=1"))),
        Some(cancel.unwrap_or_else(|| format!("{base}/billing/payment-methods"))),
    )?;
    let idempotency_key = idempotency_key(client_key, org, "setup");
    let customer = ensure_customer(app, org).await?;
    let metadata: HashMap<String, String> = HashMap::from([
        ("organization_id".to_owned(), org.to_string()),
        ("purpose".to_owned(), SETUP_PURPOSE.to_owned()),
    ]);
    let (checkout_url, session_id) =
        stripe(app)?.create_setup_checkout(&customer, &metadata, (&success_url, &cancel_url), &idempotency_key).await?;
    crate::telemetry::audit(org, "checkout_started", &format!("{SETUP_PURPOSE} {session_id}"));
    Ok(CheckoutResponse { checkout_url, session_id })
}

/// The `purpose` in a setup session's metadata.
pub const SETUP_PURPOSE: &str = "payment_method";

/// The price to charge for `usd`: a configured Stripe price when there is one, otherwise an
/// ad-hoc amount from the catalog.
pub fn priced(configured: Option<&String>, usd: Option<Decimal>, name: &str) -> Result<CheckoutItem, ApiError> {
    if let Some(price) = configured {
        return Ok(CheckoutItem::Price(price.clone()));
    }
    let usd = usd.ok_or_else(|| ApiError::Unavailable(format!("{name} has no Stripe price configured")))?;
    let cents = crate::money::exact_cents(usd).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(CheckoutItem::Amount { cents, name: name.to_owned() })
}
