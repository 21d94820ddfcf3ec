//! Secrets kept in AWS Secrets Manager rather than in a function's environment: the Stripe
//! secret key and webhook signing secret(s), read once at cold start by the functions whose
//! role may read them (the template gives them `STRIPE_SECRETS_ARN` and that right, and no
//! one else either).

#[cfg(feature = "stripe-secrets")]
use serde::Deserialize;

use crate::config::{Config, ConfigError};

/// The secret's JSON: `{"secret_key": "...", "webhook_secret": "..."}`; empty means unset.
#[cfg(feature = "stripe-secrets")]
#[derive(Debug, Default, Deserialize)]
struct StripeSecrets {
    #[serde(default)]
    secret_key: String,
    #[serde(default)]
    webhook_secret: String,
}

/// Fills the Stripe secrets from Secrets Manager when `STRIPE_SECRETS_ARN` names them.
#[cfg(feature = "stripe-secrets")]
pub async fn load_stripe_secrets(config: &mut Config, aws: &aws_config::SdkConfig) -> Result<(), ConfigError> {
    use aws_sdk_secretsmanager::error::DisplayErrorContext;
    let Some(arn) = config.stripe.secrets_arn.clone() else { return Ok(()) };
    let failed = |reason: String| ConfigError::Secret { arn: arn.clone(), reason };
    let answer = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
    let text = answer.secret_string().ok_or_else(|| failed("the secret has no string value".into()))?;
    let secrets: StripeSecrets =
        serde_json::from_str(text).map_err(|e| failed(format!("the secret is not the expected JSON: {e}")))?;
    let present =
        |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty()).map(crate::config::Secret::new);
    config.stripe.secret_key = present(secrets.secret_key);
    config.stripe.webhook_secret = present(secrets.webhook_secret);
    Ok(())
}

/// A function built without Secrets Manager: naming a secret is a deployment mistake, refused
/// at start-up rather than running without payments.
#[cfg(not(feature = "stripe-secrets"))]
pub async fn load_stripe_secrets(config: &mut Config, _aws: &aws_config::SdkConfig) -> Result<(), ConfigError> {
    match &config.stripe.secrets_arn {
        None => Ok(()),
        Some(arn) => Err(ConfigError::Secret {
            arn: arn.clone(),
            reason: "this function is built without the billing crate's `stripe-secrets` feature".into(),
        }),
    }
}
