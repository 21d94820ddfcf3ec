//! `{{name}}` — the {{Stem}} queue's consumer: TODO: what a message says and what it does.
//! A message that can never succeed is set aside in the dead-letter queue with its reason; the
//! rest of the batch goes on.

use aws_lambda_events::sqs::SqsMessage;
use billing::App;
use billing::lambda::MessageError;

pub async fn handle(_app: App, message: SqsMessage) -> Result<(), MessageError> {
    let body = message.body.as_deref().unwrap_or_default();
    let _parsed: serde_json::Value =
        serde_json::from_str(body).map_err(|e| MessageError::Reject(format!("not JSON: {e}")))?;
    Ok(())
}
