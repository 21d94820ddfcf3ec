//! The per-process context handed to every handler: built once at cold start, cloned
//! (cheaply) into each invocation.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use crate::catalog::rules::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::events::Publisher;
use crate::payments::StripeApi;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The process's AWS configuration, from which the other clients are built on first use.
    pub aws: aws_config::SdkConfig,
    clients: Arc<Clients>,
}

/// Every client but DynamoDB's, built on first use. A function's binary links the code that
/// builds a client only if its handler can reach the accessor, so `/config` carries no SQS,
/// SNS, EventBridge or Stripe client, and a cold start builds only what the request needs.
#[derive(Debug, Default)]
struct Clients {
    events: OnceLock<Publisher>,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    stripe: OnceLock<Option<StripeApi>>,
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
        Self { config: Arc::new(config), store, clock, aws: aws.clone(), clients: Arc::default() }
    }

    /// The same App publishing through `events` (e.g. a client with a fault interceptor).
    pub fn with_events(&self, events: Publisher) -> Self {
        let clients = Clients { events: OnceLock::from(events), ..Clients::default() };
        Self { clients: Arc::new(clients), ..self.clone() }
    }

    /// Domain events to EventBridge.
    pub fn events(&self) -> &Publisher {
        self.clients.events.get_or_init(|| {
            Publisher::new(aws_sdk_eventbridge::Client::new(&self.aws), self.config.event_bus_name.clone())
        })
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.clients.sqs.get_or_init(|| aws_sdk_sqs::Client::new(&self.aws))
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        self.clients.sns.get_or_init(|| aws_sdk_sns::Client::new(&self.aws))
    }

    /// The Stripe API, when a secret key is configured.
    pub fn stripe(&self) -> Option<&StripeApi> {
        self.clients
            .stripe
            .get_or_init(|| {
                StripeApi::from_config(&self.config.stripe).unwrap_or_else(|err| {
                    tracing::error!(error = %err, "the Stripe client could not be built; payments are off");
                    None
                })
            })
            .as_ref()
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

/// The SDK configuration every client of the process shares, assembled from what a Lambda
/// sandbox provides: the region and credentials in the environment (or the container
/// credentials endpoint), endpoint overrides in `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
/// (the local stack's), standard retries, and [`crate::sdk_http`]'s client.
///
/// Not `aws_config::load`: its provider chains (profiles, SSO, web identity through STS,
/// instance metadata) are never used in Lambda, yet every binary carried them and every cold
/// start assembled them. Settings the SDK clients default themselves (timeouts, sleep, clock,
/// identity cache) are left to them.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    let http = crate::sdk_http::sdk_http_client();
    let sleep = aws_smithy_async::rt::sleep::SharedAsyncSleep::new(aws_smithy_async::rt::sleep::TokioSleep::new());
    let container = aws_config::ecs::EcsCredentialsProvider::builder()
        .configure(
            &aws_config::provider_config::ProviderConfig::empty()
                .with_http_client(http.clone())
                .with_sleep_impl(sleep.clone()),
        )
        .build();
    let credentials = aws_config::meta::credentials::CredentialsProviderChain::first_try(
        "Environment",
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else("EcsContainer", container);
    let region = env_setting("AWS_REGION").or_else(|| env_setting("AWS_DEFAULT_REGION"));
    let mut config = aws_config::SdkConfig::builder();
    config.set_endpoint_url(env_setting("AWS_ENDPOINT_URL"));
    config
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(region.map(aws_config::Region::new))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .http_client(http)
        .sleep_impl(sleep)
        .retry_config(aws_config::retry::RetryConfig::standard())
        .service_config(ServiceEndpointsFromEnv)
        .build()
}

fn env_setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// A client's setting from the environment, as aws-config reads it: the service's own variable
/// first (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`), then the global one.
#[derive(Debug)]
struct ServiceEndpointsFromEnv;

impl aws_types::service_config::LoadServiceConfig for ServiceEndpointsFromEnv {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        env_setting(&service_variable(key.env(), key.service_id())).or_else(|| env_setting(key.env()))
    }
}

fn service_variable(setting: &str, service_id: &str) -> String {
    format!("{setting}_{}", service_id.to_uppercase().replace(' ', "_"))
}

#[cfg(test)]
mod tests {
    use super::service_variable;

    #[test]
    fn each_service_reads_its_own_endpoint_variable_as_aws_config_names_it() {
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "DynamoDB"), "AWS_ENDPOINT_URL_DYNAMODB");
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "Secrets Manager"), "AWS_ENDPOINT_URL_SECRETS_MANAGER");
        assert_eq!(service_variable("AWS_ENDPOINT_URL", "EventBridge"), "AWS_ENDPOINT_URL_EVENTBRIDGE");
    }
}
