//! Request bodies of the purchase and payment routes (checkouts, portal, payment methods,
//! subscription cancel and change), and the portal's answer. They live here, not in each
//! function, so the OpenAPI document describes exactly what the functions parse.

pub mod payment_methods;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `POST .../credits/checkout`: buy prepaid credits (above 0, at most the catalog's maximum).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditPurchaseRequest {
    #[serde(deserialize_with = "crate::money::usd::deserialize")]
    #[schema(minimum = 0.01)]
    pub amount_usd: Decimal,
    /// Must be on the frontend's origin; defaults to its success page.
    pub success_url: Option<String>,
    /// Must be on the frontend's origin; defaults to its cancel page.
    pub cancel_url: Option<String>,
}

/// `POST .../workflow-packs/checkout`: one of the catalog's packs (10 or 50 workflows).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackPurchaseRequest {
    #[schema(minimum = 1)]
    pub pack: u32,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// A promotion code; refused with its reason (`promo_code_*`) before anything is charged.
    #[schema(min_length = 1, max_length = 64)]
    pub promo_code: Option<String>,
}

/// `POST .../lifetime/checkout` (the body may be empty).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifetimePurchaseRequest {
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// A promotion code; refused with its reason (`promo_code_*`) before anything is charged.
    #[schema(min_length = 1, max_length = 64)]
    pub promo_code: Option<String>,
}

/// `POST .../payment-methods/checkout` (the body may be empty): where Checkout returns to,
/// on the frontend's origin.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodCheckoutRequest {
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
}

/// `POST .../subscription/checkout`: a subscribable tier of the catalog.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionCheckoutRequest {
    #[schema(pattern = "^[a-z0-9_-]{1,32}$")]
    pub tier: String,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// A promotion code; refused with its reason (`promo_code_*`) before anything is charged.
    #[schema(min_length = 1, max_length = 64)]
    pub promo_code: Option<String>,
}

/// `POST .../payment-method`: a payment method collected by Stripe.js (no card data).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodRequest {
    #[schema(pattern = "^pm_[A-Za-z0-9_]{1,61}$")]
    pub payment_method_id: String,
    pub set_as_default: bool,
}

/// `POST .../portal` (the body may be empty).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalRequest {
    /// Must be on the frontend's origin; defaults to its billing settings page.
    pub return_url: Option<String>,
}

/// The frontend guide's `PortalResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortalResponse {
    pub portal_url: String,
}

/// `POST .../subscription/cancel` (the body may be empty).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// `true` (the default): the service continues until the period ends.
    pub at_period_end: Option<bool>,
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST .../subscription/change`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    #[schema(pattern = "^[a-z0-9_-]{1,32}$")]
    pub tier: String,
}
