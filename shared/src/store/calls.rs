//! Counts DynamoDB requests by operation, as an SDK interceptor. Tests use it to prove the
//! cost of an operation (an uncontended reserve is exactly one request); it is cheap enough
//! to leave on for metrics.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
}

impl CallCounter {
    /// Requests sent since the last call, by operation name, and resets the count.
    pub fn take(&self) -> BTreeMap<String, u32> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    // Before transmit, so SDK-level retries count as the separate round trips they are.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_owned();
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()).entry(operation).or_default() += 1;
        Ok(())
    }
}
