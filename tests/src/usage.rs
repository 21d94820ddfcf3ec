//! Usage helpers: messages for the usage queue and their delivery to its consumer.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::{Value, json};

use crate::TestContext;

/// Delivers `bodies` to the usage consumer as one SQS batch, the way Lambda would.
pub async fn deliver(ctx: &TestContext, bodies: &[String]) -> SqsBatchResponse {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({ "messageId": format!("m{i}"), "body": body, "eventSourceARN": "arn:aws:sqs:us-east-1:0:usage" }))
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    billing::lambda::sqs::handle_batch(&sqs_usage_events::handle, ctx.app.clone(), event).await
}

/// An `llm_call` message; `cost_usd` is the JSON number text, e.g. `"0.25"`.
pub fn llm_call(event_id: &str, org: &str, payer: &str, cost_usd: &str) -> String {
    let cost: Value = serde_json::from_str(cost_usd).unwrap();
    json!({
        "type": "llm_call", "event_id": event_id, "organization_id": org, "run_id": "run-1",
        "provider": "anthropic", "model": "claude-sonnet-4", "prompt_tokens": 1000, "completion_tokens": 500,
        "prompt_cost_usd": cost, "completion_cost_usd": 0, "payer": payer, "recorded_at": "2026-11-23T09:00:00Z"
    })
    .to_string()
}
