//! `sqs-account-close` — closes one account's month from the close queue: invoices the usage
//! recorded up to the month's end and moves the account's close marker to the next month.
//! A redelivered message finds the month closed and changes nothing.

use aws_lambda_events::sqs::SqsMessage;
use billing::App;
use billing::domain::OrganizationId;
use billing::flows::invoicing::{InvoicingError, close_month};
use billing::lambda::MessageError;

pub async fn handle(app: App, message: SqsMessage) -> Result<(), MessageError> {
    let body: serde_json::Value = serde_json::from_str(message.body.as_deref().unwrap_or_default())
        .map_err(|e| MessageError::Reject(format!("not JSON: {e}")))?;
    let org = body["organization_id"]
        .as_str()
        .and_then(|raw| OrganizationId::parse(raw).ok())
        .ok_or_else(|| MessageError::Reject("organization_id is missing or invalid".into()))?;
    let month = body["month"].as_str().unwrap_or_default();
    match close_month(&app, &org, month).await {
        Ok(_) => Ok(()),
        Err(err @ (InvoicingError::NoAccount | InvoicingError::Inconsistent(_))) => {
            Err(MessageError::Reject(err.to_string()))
        }
        Err(err) => Err(MessageError::Retry(anyhow::anyhow!(err))),
    }
}
