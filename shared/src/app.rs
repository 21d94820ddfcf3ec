//! The per-process context handed to every handler: built once at cold start, cloned
//! (cheaply) into each invocation.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::domain::Catalog;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Production wiring: configuration from the environment, AWS clients from the default
    /// provider chain (which honours `AWS_ENDPOINT_URL_*` for the local stack).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let aws = load_aws_config().await;
        Ok(Self::new(config, &aws, Arc::new(SystemClock)))
    }

    pub fn new(config: Config, aws: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Self {
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.table_name.as_str(),
        );
        Self {
            config: Arc::new(config),
            store,
            clock,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.config.catalog
    }
}

pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}
