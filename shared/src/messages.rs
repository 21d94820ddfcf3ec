//! How handling one queue message can fail. Flows that consume messages (usage, Stripe events,
//! account close, the outbox) answer with it; the SQS and stream runners in `crate::lambda`
//! turn it into a redelivery or a dead-letter copy. It lives here, below both, so a flow never
//! imports from the runners.

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Try again later (a dependency failed, the account was busy).
    #[error("{0:#}")]
    Retry(#[from] anyhow::Error),
    /// This message can never be processed (malformed, refers to nothing).
    #[error("rejected: {0}")]
    Reject(String),
}
