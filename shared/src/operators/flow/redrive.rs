//! Moving a dead-letter queue's messages back to the queue they came from.
//!
//! Each message is sent to the source queue and only then deleted from the dead-letter queue,
//! so none is lost; a crash between the two leaves it in the dead-letter queue and a later
//! redrive sends it again. That duplicate is safe because every consumer is idempotent (usage
//! events by run id, Stripe events by event id, closes by account and month). SQS's own
//! `StartMessageMoveTask` would do the same asynchronously, but it reports no per-call count
//! and the local emulator does not implement it; moving the messages here keeps one code path
//! for both, capped per call ([`MAX_MESSAGES_PER_CALL`]) to stay inside the function's timeout.

use std::collections::HashMap;

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};

use crate::App;
use crate::operators::flow::Operator;
use crate::operators::rules::audit::{QueueAuditEntry, ReasonError, checked_reason};
use crate::operators::rules::queues::{self, DeadLetters};
use crate::store::StoreError;

/// Messages moved by one call at most; the answer says `capped` when some were left.
pub const MAX_MESSAGES_PER_CALL: u32 = 500;
/// How long received messages stay hidden while they are being moved (well beyond one batch).
const MOVE_VISIBILITY_SECONDS: i32 = 120;

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error(transparent)]
    Reason(#[from] ReasonError),
    #[error("There is no dead-letter queue named {0:?}.")]
    UnknownQueue(String),
    #[error("{0} holds records of stream batches, not messages to redeliver; replay the outbox items from the table.")]
    NotRedrivable(&'static str),
    #[error("The URL of queue {0} is not configured for this function.")]
    NotConfigured(&'static str),
    #[error("SQS {operation} failed: {message}")]
    Sqs { operation: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn sqs_err<E: std::error::Error + 'static>(operation: &'static str) -> impl FnOnce(E) -> RedriveError {
    move |e| RedriveError::Sqs { operation, message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string() }
}

/// What one call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redriven {
    pub queue: &'static str,
    pub source_queue: &'static str,
    pub moved: u32,
    pub failed: u32,
    pub capped: bool,
    pub audit_id: String,
}

/// Moves the dead-letter queue `name` (logical id or alias) back to its source queue, at most
/// [`MAX_MESSAGES_PER_CALL`] messages, audited with who and why before anything moves.
pub async fn redrive(
    app: &App,
    name: &str,
    operator: Operator<'_>,
    reason: Option<&str>,
) -> Result<Redriven, RedriveError> {
    let reason = checked_reason(reason)?;
    let dlq = queues::find(name)
        .filter(|q| q.is_dead_letter_queue())
        .ok_or_else(|| RedriveError::UnknownQueue(name.to_owned()))?;
    let source = match dlq.dead_letters {
        Some(DeadLetters::From(source)) => queues::find(source).ok_or(RedriveError::NotConfigured(source))?,
        _ => return Err(RedriveError::NotRedrivable(dlq.name)),
    };
    let url_of = |name: &'static str| app.config.queue_urls.get(name).ok_or(RedriveError::NotConfigured(name));
    let (dlq_url, source_url) = (url_of(dlq.name)?, url_of(source.name)?);

    let waiting = visible(app, dlq_url).await?;
    let before = serde_json::json!({ "visible": waiting, "source_queue": source.name });
    let entry = QueueAuditEntry::new(dlq.name, operator.subject, "queue_redriven", &reason, before, app.now());
    app.store.put_queue_audit(&entry).await?;

    let (mut moved, mut failed, mut capped) = (0u32, 0u32, false);
    loop {
        if moved + failed >= MAX_MESSAGES_PER_CALL {
            capped = visible(app, dlq_url).await? > 0;
            break;
        }
        let room = (MAX_MESSAGES_PER_CALL - moved - failed).min(10);
        let batch = receive(app, dlq_url, room).await?;
        if batch.is_empty() {
            break;
        }
        let (sent, refused) = move_batch(app, source_url, source.fifo, dlq_url, &batch).await?;
        moved += sent;
        failed += refused;
    }

    let after = serde_json::json!({ "moved": moved, "failed": failed, "capped": capped });
    // The messages have moved: a lost outcome must not turn that into an error; the entry
    // still names who and why.
    if let Err(err) = app.store.complete_queue_audit(&entry, &after).await {
        tracing::error!(error = %err, audit_id = %entry.id, "redrive outcome not recorded on its audit entry");
    }
    tracing::info!(
        queue = dlq.name,
        source = source.name,
        moved,
        failed,
        capped,
        operator = operator.subject,
        "dead-letter queue redriven"
    );
    Ok(Redriven { queue: dlq.name, source_queue: source.name, moved, failed, capped, audit_id: entry.id })
}

async fn visible(app: &App, url: &str) -> Result<i64, RedriveError> {
    let attributes = app
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(sqs_err("GetQueueAttributes"))?
        .attributes
        .unwrap_or_default();
    Ok(attributes.get(&QueueAttributeName::ApproximateNumberOfMessages).and_then(|v| v.parse().ok()).unwrap_or(0))
}

async fn receive(app: &App, url: &str, max: u32) -> Result<Vec<Message>, RedriveError> {
    Ok(app
        .sqs()
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(i32::try_from(max).unwrap_or(10))
        .visibility_timeout(MOVE_VISIBILITY_SECONDS)
        .wait_time_seconds(0)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .map_err(sqs_err("ReceiveMessage"))?
        .messages
        .unwrap_or_default())
}

/// Sends the batch to the source queue, then deletes from the dead-letter queue exactly the
/// messages that were sent. (sent, refused).
async fn move_batch(
    app: &App,
    source_url: &str,
    fifo: bool,
    dlq_url: &str,
    batch: &[Message],
) -> Result<(u32, u32), RedriveError> {
    let mut entries = Vec::with_capacity(batch.len());
    let mut by_id: HashMap<String, &Message> = HashMap::new();
    for (i, message) in batch.iter().enumerate() {
        let id = i.to_string();
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(&id)
            .message_body(message.body().unwrap_or_default())
            .set_message_attributes(message.message_attributes().cloned());
        if fifo {
            let group = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                .cloned()
                .unwrap_or_else(|| "redrive".to_owned());
            // A fresh deduplication id: reusing the original one would let SQS drop the
            // message as a duplicate of its first send within five minutes.
            entry = entry.message_group_id(group).message_deduplication_id(uuid::Uuid::new_v4().simple().to_string());
        }
        entries.push(entry.build().map_err(sqs_err("SendMessageBatch"))?);
        by_id.insert(id, message);
    }
    let sent = app
        .sqs()
        .send_message_batch()
        .queue_url(source_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(sqs_err("SendMessageBatch"))?;
    for failure in sent.failed() {
        tracing::warn!(
            code = failure.code(),
            message = failure.message(),
            "a dead letter was refused by its source queue; it stays"
        );
    }
    let deletes = sent
        .successful()
        .iter()
        .filter_map(|ok| by_id.get(ok.id()))
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .map_err(sqs_err("DeleteMessageBatch"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut moved = 0;
    if !deletes.is_empty() {
        let deleted = app
            .sqs()
            .delete_message_batch()
            .queue_url(dlq_url)
            .set_entries(Some(deletes))
            .send()
            .await
            .map_err(sqs_err("DeleteMessageBatch"))?;
        for failure in deleted.failed() {
            // Sent but still in the dead-letter queue: a later redrive sends it again.
            tracing::warn!(code = failure.code(), "a redriven message could not be deleted from the dead-letter queue");
        }
        moved = u32::try_from(deleted.successful().len()).unwrap_or(u32::MAX);
    }
    Ok((moved, u32::try_from(sent.failed().len()).unwrap_or(u32::MAX)))
}

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::operators::flow::redrive::RedriveError> for crate::error::ApiError {
    fn from(err: crate::operators::flow::redrive::RedriveError) -> Self {
        use crate::operators::flow::redrive::RedriveError as E;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::UnknownQueue(_) => Self::not_found("unknown_queue", err.to_string()),
            E::NotRedrivable(_) => Self::Conflict { code: "not_redrivable", detail: err.to_string() },
            E::NotConfigured(_) => Self::Internal(anyhow::anyhow!(err)),
            E::Sqs { .. } => {
                tracing::error!(error = %err, "redrive failed at SQS");
                Self::Unavailable("The queue service could not be reached; retry shortly.".into())
            }
        }
    }
}
