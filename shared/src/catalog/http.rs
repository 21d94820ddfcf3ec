use serde::{Deserialize, Serialize};

use crate::config::StripeConfig;

/// `GET /config`: what the frontend needs to load Stripe.js.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StripeConfigResponse {
    pub publishable_key: Option<String>,
    pub is_configured: bool,
}

impl From<&StripeConfig> for StripeConfigResponse {
    fn from(stripe: &StripeConfig) -> Self {
        Self { publishable_key: stripe.publishable_key.clone(), is_configured: stripe.is_configured() }
    }
}
