//! Lambda runners and the request/response plumbing every function shares.
//!
//! A function's `main.rs` is one call: `run_http(handler)`, `run_sqs(handler)`,
//! `run_schedule(handler)` or `run_dynamodb_stream(handler)`. The runner sets up tracing and the
//! metrics recorder, reads configuration and builds AWS clients once per cold start, then hands
//! each event to the handler and writes the metrics it counted. The local server and
//! the tests call the same `handle_*` functions the runners use, so what is tested is what
//! Lambda runs.

pub mod http;
pub mod schedule;
pub mod sqs;
pub mod stream;

pub use http::{HttpHandler, HttpResult, run_http};
pub use schedule::{ScheduleHandler, run_schedule};
pub use sqs::{MessageError, SqsHandler, run_sqs};
pub use stream::{StreamHandler, run_dynamodb_stream};

use std::future::Future;

use crate::App;

/// Cold-start setup shared by all runners: tracing, the metrics recorder, configuration and
/// AWS clients.
async fn init() -> Result<App, lambda_runtime::Error> {
    crate::telemetry::init_tracing();
    let metrics = crate::telemetry::metrics::Settings::from_lookup(|name| std::env::var(name).ok());
    if let Err(err) = crate::telemetry::metrics::install(&metrics) {
        // Metrics are for people; the function still serves without them.
        tracing::error!(error = %err, "business metrics are off");
    }
    App::from_env().await.map_err(|err| {
        tracing::error!(error = %err, "configuration is invalid; the function cannot start");
        err.into()
    })
}

/// Runs one invocation, then writes the metrics it counted, before Lambda gets the answer and
/// may freeze the process.
///
/// The work is boxed before it is held: the runtime's future holding the SDK's nests deep
/// enough to overflow the compiler's layout queries when a function is built alone in release
/// (as cargo-lambda builds it). One allocation per invocation.
fn invocation<T>(work: impl Future<Output = T>) -> impl Future<Output = T> {
    let work = Box::pin(work);
    async move {
        let output = work.await;
        crate::telemetry::metrics::flush();
        output
    }
}
