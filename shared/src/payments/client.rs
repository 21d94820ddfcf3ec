//! The Stripe API client, built once per process from configuration (pointed at stripe-mock
//! locally). Every call maps failures to [`PaymentError`], which the API answers with 502.

use std::collections::HashMap;

use stripe::{ClientBuilder, IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::customer::CreateCustomer;
use stripe_payment::payment_method::ListPaymentMethod;

use crate::config::StripeConfig;
use crate::domain::OrganizationId;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("Stripe is not configured (no secret key)")]
    NotConfigured,
    #[error("Stripe request failed: {0}")]
    Stripe(#[from] stripe::StripeError),
    #[error("invalid idempotency key: {0}")]
    IdempotencyKey(String),
}

impl From<PaymentError> for crate::ApiError {
    fn from(err: PaymentError) -> Self {
        match err {
            PaymentError::NotConfigured => {
                crate::ApiError::Unavailable("payments are not configured on this deployment".into())
            }
            other => crate::ApiError::PaymentProvider(other.to_string()),
        }
    }
}

/// A customer's saved payment method, as far as billing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPaymentMethod {
    pub id: String,
    pub kind: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
}

#[derive(Clone)]
pub struct StripeApi {
    client: stripe::Client,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeApi")
    }
}

impl StripeApi {
    /// `None` when no secret key is configured.
    pub fn from_config(config: &StripeConfig) -> Result<Option<Self>, PaymentError> {
        let Some(secret) = &config.secret_key else { return Ok(None) };
        let mut builder = ClientBuilder::new(secret.expose());
        if let Some(base) = &config.api_base {
            builder = builder.url(base.clone());
        }
        Ok(Some(Self { client: builder.build()? }))
    }

    pub fn client(&self) -> &stripe::Client {
        &self.client
    }

    /// Creates the organization's Stripe customer. The idempotency key makes a retried call
    /// return the first customer instead of creating a second.
    pub async fn create_customer(
        &self,
        org: &OrganizationId,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<String, PaymentError> {
        let mut request = CreateCustomer::new()
            .metadata(HashMap::from([("organization_id".to_owned(), org.to_string())]))
            .description(format!("Billing account of organization {org}"));
        if let Some(email) = email {
            request = request.email(email);
        }
        let key = IdempotencyKey::new(idempotency_key).map_err(|e| PaymentError::IdempotencyKey(e.to_string()))?;
        let customer =
            request.customize().request_strategy(RequestStrategy::Idempotent(key)).send(&self.client).await?;
        Ok(customer.id.to_string())
    }

    /// The customer's saved payment methods (first 100).
    pub async fn payment_methods(&self, customer: &str) -> Result<Vec<SavedPaymentMethod>, PaymentError> {
        let list = ListPaymentMethod::new().customer(customer).limit(100).send(&self.client).await?;
        Ok(list
            .data
            .into_iter()
            .map(|pm| SavedPaymentMethod {
                id: pm.id.to_string(),
                kind: pm.type_.as_str().to_owned(),
                card_brand: pm.card.as_ref().map(|c| c.brand.clone()),
                card_last4: pm.card.as_ref().map(|c| c.last4.clone()),
            })
            .collect())
    }
}
