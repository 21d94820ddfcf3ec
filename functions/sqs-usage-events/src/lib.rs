//! `sqs-usage-events` — the usage queue's consumer. Each message is one of `run_completed`
//! (commits the run's reservation, exactly as the commit route does), `run_failed` /
//! `run_cancelled` (releases it) and `llm_call` (records the call's cost). Malformed messages
//! are set aside in the dead-letter queue with their reason; the rest of the batch goes on.

use aws_lambda_events::sqs::SqsMessage;
use billing::App;
use billing::costs::http::UsageMessage;
use billing::messages::MessageError;

pub async fn handle(app: App, message: SqsMessage) -> Result<(), MessageError> {
    let body = message.body.as_deref().unwrap_or_default();
    let parsed: UsageMessage =
        serde_json::from_str(body).map_err(|e| MessageError::Reject(format!("not a usage message: {e}")))?;
    billing::usage::flow::apply(&app, parsed).await
}
