//! Tracing setup, done once per process by the runners; business metrics in [`metrics`].
//!
//! In Lambda (detected by `AWS_LAMBDA_FUNCTION_NAME`) logs are JSON lines so CloudWatch
//! Logs Insights can filter on `request_id` and `org`; locally they are human-readable.
//! `RUST_LOG` overrides the default `info` level.

pub mod metrics;

use tracing_subscriber::EnvFilter;

pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    // try_init: the local server and tests may call this more than once per process.
    let _ =
        if in_lambda { builder.json().with_current_span(true).without_time().try_init() } else { builder.try_init() };
}
