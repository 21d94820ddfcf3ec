//! `sqs-account-close` — closes one account's month from the close queue: invoices the usage
//! recorded up to the month's end, moves the account's close marker to the next month and
//! starts the next month's free quota eagerly (`FreeQuotaReset`, only if this moved it).
//! A redelivered message finds the month closed and the quota started, and changes nothing.

use aws_lambda_events::sqs::SqsMessage;
use billing::App;
use billing::ids::OrganizationId;
use billing::invoicing::flow::{InvoicingError, close_month};
use billing::messages::MessageError;
use billing::quota::flow::reset_after_close;

pub async fn handle(app: App, message: SqsMessage) -> Result<(), MessageError> {
    let body: serde_json::Value = serde_json::from_str(message.body.as_deref().unwrap_or_default())
        .map_err(|e| MessageError::Reject(format!("not JSON: {e}")))?;
    let org = body["organization_id"]
        .as_str()
        .and_then(|raw| OrganizationId::parse(raw).ok())
        .ok_or_else(|| MessageError::Reject("organization_id is missing or invalid".into()))?;
    let month = body["month"].as_str().unwrap_or_default();
    match close_month(&app, &org, month).await {
        Ok(_) => {}
        Err(err @ (InvoicingError::NoAccount | InvoicingError::Inconsistent(_))) => {
            return Err(MessageError::Reject(err.to_string()));
        }
        Err(err) => return Err(MessageError::Retry(anyhow::anyhow!(err))),
    }
    reset_after_close(&app, &org, month).await.map_err(|e| MessageError::Retry(e.into()))?;
    Ok(())
}
