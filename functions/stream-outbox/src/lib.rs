//! `stream-outbox` — delivers the transactional outbox: each new `OUTBOX#` item on the table's
//! stream (the template's filter passes only those `INSERT`s) is published to EventBridge
//! with the existing publisher. A failed `PutEvents` is a retry, never a drop: the batch
//! reports this record and Lambda redelivers from it. The envelope id is the subscribers'
//! dedupe key, so a publish that succeeded but looked failed costs only a duplicate.

use aws_lambda_events::dynamodb::EventRecord;
use billing::App;
use billing::messages::MessageError;
use billing::store::outbox::{OutboxItem, is_outbox_insert};

pub async fn handle(app: App, record: EventRecord) -> Result<(), MessageError> {
    if !is_outbox_insert(&record.event_name, &record.change.keys) {
        // The event source filter should not let these through; nothing to publish.
        tracing::debug!(event_name = %record.event_name, "not an outbox insert; skipped");
        return Ok(());
    }
    let envelope =
        OutboxItem::envelope_from_image(record.change.new_image).map_err(|e| MessageError::Reject(e.to_string()))?;
    tracing::Span::current().record("org", envelope.organization_id.as_str());
    app.events().publish(&envelope).await.map_err(|e| MessageError::Retry(e.into()))
}
