//! Money-in flows started from the frontend: the organization's Stripe customer (created on
//! first need, exactly once), Checkout sessions for credits, packs, lifetime and
//! subscriptions, the customer portal and saved payment methods.
//!
//! Nothing is written locally until Stripe has answered, so a Stripe failure (502) leaves no
//! half-made state behind; what Stripe then reports (webhooks) changes balances and tiers.

use std::collections::HashMap;

use lambda_http::Request;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::OrganizationId;
use crate::payments::StripeApi;
use crate::payments::client::{CheckoutItem, CheckoutSpec};
use crate::store::AccountItem;
use crate::{ApiError, App};

pub fn stripe(app: &App) -> Result<&StripeApi, ApiError> {
    app.stripe
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("payments are not configured (no Stripe secret key)".into()))
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
    crate::lambda::http::audit(org, "stripe_customer_created", &customer);
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

/// A Stripe idempotency key for this request: from the client's `Idempotency-Key` header when
/// given (a retried POST returns the same session), otherwise unique.
pub fn idempotency_key(req: &Request, org: &OrganizationId, purpose: &str) -> Result<String, ApiError> {
    Ok(format!("{org}-{purpose}-{}", crate::lambda::http::idempotency_key(req)?))
}

/// Starts a Checkout session selling `item` to the organization.
pub async fn checkout(
    app: &App,
    req: &Request,
    org: &OrganizationId,
    purpose: &str,
    item: CheckoutItem,
    extra_metadata: &[(&str, String)],
    urls: (Option<String>, Option<String>),
) -> Result<CheckoutResponse, ApiError> {
    start(app, req, org, (purpose, item, None), extra_metadata, urls).await
}

/// Starts a subscription's Checkout session, with the tier's trial while the organization
/// has never had one (`store::trials`).
pub async fn subscription_checkout(
    app: &App,
    req: &Request,
    org: &OrganizationId,
    tier: &crate::domain::plans::Tier,
    item: CheckoutItem,
    urls: (Option<String>, Option<String>),
) -> Result<CheckoutResponse, ApiError> {
    let trial_days = match tier.trial_days {
        Some(days) if app.store.trial(org).await?.is_none() => Some(days),
        _ => None,
    };
    let metadata = [("tier", tier.id.to_string())];
    start(app, req, org, ("subscription", item, trial_days), &metadata, urls).await
}

async fn start(
    app: &App,
    req: &Request,
    org: &OrganizationId,
    (purpose, item, trial_days): (&str, CheckoutItem, Option<u32>),
    extra_metadata: &[(&str, String)],
    urls: (Option<String>, Option<String>),
) -> Result<CheckoutResponse, ApiError> {
    let (success_url, cancel_url) = return_urls(app, urls.0, urls.1)?;
    let idempotency_key = idempotency_key(req, org, purpose)?;
    let customer = ensure_customer(app, org).await?;
    let mut metadata: HashMap<String, String> =
        HashMap::from([("organization_id".to_owned(), org.to_string()), ("purpose".to_owned(), purpose.to_owned())]);
    metadata.extend(extra_metadata.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let spec = CheckoutSpec {
        customer,
        subscription: purpose == "subscription",
        item,
        metadata,
        success_url,
        cancel_url,
        allow_promotion_codes: purpose == "subscription",
        trial_days,
        idempotency_key,
    };
    let (checkout_url, session_id) = stripe(app)?.create_checkout(spec).await?;
    crate::lambda::http::audit(org, "checkout_started", &format!("{purpose} {session_id}"));
    Ok(CheckoutResponse { checkout_url, session_id })
}

/// The price to charge for `usd`: a configured Stripe price when there is one, otherwise an
/// ad-hoc amount from the catalog.
pub fn priced(configured: Option<&String>, usd: Option<Decimal>, name: &str) -> Result<CheckoutItem, ApiError> {
    if let Some(price) = configured {
        return Ok(CheckoutItem::Price(price.clone()));
    }
    let usd = usd.ok_or_else(|| ApiError::Unavailable(format!("{name} has no Stripe price configured")))?;
    let cents = crate::domain::money::exact_cents(usd).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(CheckoutItem::Amount { cents, name: name.to_owned() })
}
