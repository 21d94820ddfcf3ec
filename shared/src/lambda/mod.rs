//! Lambda runners and the request/response plumbing every function shares.
//!
//! A function's `main.rs` is one call: `run_http(handler)`, `run_sqs(handler)`,
//! `run_schedule(handler)` or `run_dynamodb_stream(handler)`. The runner sets up tracing, reads
//! configuration and builds AWS clients once per cold start, then hands each event to the handler. The local server and
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

use crate::App;

/// Cold-start setup shared by all runners.
async fn init() -> Result<App, lambda_runtime::Error> {
    crate::telemetry::init_tracing();
    App::from_env().await.map_err(|err| {
        tracing::error!(error = %err, "configuration is invalid; the function cannot start");
        err.into()
    })
}
