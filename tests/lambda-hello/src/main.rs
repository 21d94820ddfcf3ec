//! `lambda-hello`: the smallest useful Lambda, built with the workspace's release profile in
//! the same `make bench-lambda` run as the billing functions. It answers every event with the
//! event itself, so its row in the benchmark is what the Rust runtime, tokio and the Runtime
//! API round trip cost alone; whatever a billing function adds on top is its own.
//!
//! Not a billing function: it lives outside `functions/`, so template.yaml, the local server
//! and `sam build` never see it.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(json!({ "hello": event.payload }))
    }))
    .await
}
