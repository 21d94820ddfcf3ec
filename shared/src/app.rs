//! The per-process context handed to every handler: built once at cold start, cloned
//! (cheaply) into each invocation.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::domain::Catalog;
use crate::events::Publisher;
use crate::payments::StripeApi;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub events: Publisher,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    /// The Stripe API, when a secret key is configured.
    pub stripe: Option<StripeApi>,
    /// The process's AWS configuration, for the few functions that build a client of their
    /// own (the health view's CloudWatch reader) instead of every function linking it.
    pub aws: aws_config::SdkConfig,
}

impl App {
    /// Production wiring: configuration from the environment (and Secrets Manager), AWS
    /// clients from the default provider chain (which honours `AWS_ENDPOINT_URL_*` locally).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let mut config = Config::from_env()?;
        let aws = load_aws_config().await;
        crate::secrets::load_stripe_secrets(&mut config, &aws).await?;
        Ok(Self::new(config, &aws, Arc::new(SystemClock)))
    }

    pub fn new(config: Config, aws: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_dynamo(config, aws, aws_sdk_dynamodb::Client::new(aws), clock)
    }

    /// Wiring with a given DynamoDB client (e.g. one with a call-counting interceptor).
    pub fn with_dynamo(
        config: Config,
        aws: &aws_config::SdkConfig,
        dynamo: aws_sdk_dynamodb::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let store = Store::new(dynamo, config.table_name.as_str());
        let events = Publisher::new(aws_sdk_eventbridge::Client::new(aws), config.event_bus_name.clone());
        let (sqs, sns) = (aws_sdk_sqs::Client::new(aws), aws_sdk_sns::Client::new(aws));
        let stripe = StripeApi::from_config(&config.stripe).unwrap_or_else(|err| {
            tracing::error!(error = %err, "the Stripe client could not be built; payments are off");
            None
        });
        Self { config: Arc::new(config), store, clock, events, sqs, sns, stripe, aws: aws.clone() }
    }

    /// The same App for a function with its own dead-letter queue.
    pub fn with_dead_letter_queue(&self, url: Option<String>) -> Self {
        let mut config = (*self.config).clone();
        config.dead_letter_queue_url = url;
        Self { config: Arc::new(config), ..self.clone() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// How long a hold lives without a heartbeat.
    pub fn hold_ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.hold_ttl).unwrap_or(chrono::Duration::minutes(30))
    }

    pub fn catalog(&self) -> &Catalog {
        &self.config.catalog
    }
}

pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}
