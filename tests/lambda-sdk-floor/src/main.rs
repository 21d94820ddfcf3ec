//! `lambda-sdk-floor`: the hello world plus one DynamoDB `GetItem` per event, on exactly the
//! AWS stack every billing function starts (`billing::app::load_aws_config`: the SDK, the
//! workspace's one hyper/rustls connector, aws-lc-rs, the Mozilla roots). Built with the
//! release profile in the same `make bench-lambda` run, its row is what that stack costs
//! before any billing code: a billing function's init out of the page cache can be judged
//! against the hello world (the runtime alone) and against this floor (the runtime and the
//! AWS stack).
//!
//! Not a billing function: it lives outside `functions/`, so template.yaml, the local server
//! and `sam build` never see it.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var(billing::config::Config::TABLE)
        .map_err(|_| format!("{} is not set", billing::config::Config::TABLE))?;
    let dynamo = aws_sdk_dynamodb::Client::new(&billing::app::load_aws_config().await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (dynamo, table) = (dynamo.clone(), table.clone());
        async move {
            let key = event.payload["key"].as_str().unwrap_or("FLOOR").to_owned();
            let item = dynamo
                .get_item()
                .table_name(table)
                .key("PK", AttributeValue::S(key.clone()))
                .key("SK", AttributeValue::S(key))
                .send()
                .await?;
            Ok::<_, Error>(json!({ "found": item.item.is_some() }))
        }
    }))
    .await
}
