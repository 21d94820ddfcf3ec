//! `{{name}}` — TODO: what it does with the table's stream records its filter lets through. A
//! failure is a retry from the failed record, never a drop.

use aws_lambda_events::dynamodb::EventRecord;
use billing::App;
use billing::lambda::MessageError;

pub async fn handle(_app: App, record: EventRecord) -> Result<(), MessageError> {
    tracing::debug!(event_name = %record.event_name, "stream record");
    Ok(())
}
