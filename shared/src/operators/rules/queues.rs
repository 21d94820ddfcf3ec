//! The stack's queues as operators see them: each queue's logical id (as in template.yaml),
//! the environment variable that carries its URL, and for a dead-letter queue the queue its
//! messages came from. Pure data; the health view and the redrive read it.

/// One queue of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDef {
    /// Logical id in template.yaml, e.g. `UsageDeadLetterQueue`.
    pub name: &'static str,
    /// Short name an operator may use instead, e.g. `usage-dlq`.
    pub alias: &'static str,
    /// Environment variable holding its URL.
    pub env: &'static str,
    /// For a dead-letter queue: `Some(source)` when its messages can go back to a queue,
    /// `None` for a queue that is not a dead-letter queue.
    pub dead_letters: Option<DeadLetters>,
    /// FIFO queues need a message group (and a deduplication id) on every send.
    pub fifo: bool,
}

/// Where a dead-letter queue's messages came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetters {
    /// Messages a queue's consumer gave up on: they can be sent back to that queue.
    From(&'static str),
    /// Records of stream batches a function gave up on: metadata, not messages to redeliver
    /// (the outbox items themselves are replayed from the table).
    StreamFailures,
    /// Records of asynchronous invocations (schedules, the event rule's target) that failed
    /// after Lambda's retries: what failed and why. A schedule runs again at its next time.
    AsyncFailures,
}

pub const QUEUES: &[QueueDef] = &[
    QueueDef { name: "UsageQueue", alias: "usage", env: "USAGE_QUEUE_URL", dead_letters: None, fifo: false },
    QueueDef {
        name: "UsageDeadLetterQueue",
        alias: "usage-dlq",
        env: "USAGE_DEAD_LETTER_QUEUE_URL",
        dead_letters: Some(DeadLetters::From("UsageQueue")),
        fifo: false,
    },
    QueueDef {
        name: "StripeEventsQueue",
        alias: "stripe-events",
        env: "STRIPE_EVENTS_QUEUE_URL",
        dead_letters: None,
        fifo: true,
    },
    QueueDef {
        name: "StripeEventsDeadLetterQueue",
        alias: "stripe-events-dlq",
        env: "STRIPE_EVENTS_DEAD_LETTER_QUEUE_URL",
        dead_letters: Some(DeadLetters::From("StripeEventsQueue")),
        fifo: true,
    },
    QueueDef {
        name: "AccountCloseQueue",
        alias: "account-close",
        env: "ACCOUNT_CLOSE_QUEUE_URL",
        dead_letters: None,
        fifo: false,
    },
    QueueDef {
        name: "AccountCloseDeadLetterQueue",
        alias: "account-close-dlq",
        env: "ACCOUNT_CLOSE_DEAD_LETTER_QUEUE_URL",
        dead_letters: Some(DeadLetters::From("AccountCloseQueue")),
        fifo: false,
    },
    QueueDef {
        name: "OutboxDeadLetterQueue",
        alias: "outbox-dlq",
        env: "OUTBOX_DEAD_LETTER_QUEUE_URL",
        dead_letters: Some(DeadLetters::StreamFailures),
        fifo: false,
    },
    QueueDef {
        name: "AsyncFailuresQueue",
        alias: "async-failures",
        env: "ASYNC_FAILURES_QUEUE_URL",
        dead_letters: Some(DeadLetters::AsyncFailures),
        fifo: false,
    },
];

/// A queue by its logical id or alias.
pub fn find(name: &str) -> Option<&'static QueueDef> {
    QUEUES.iter().find(|q| q.name == name || q.alias == name)
}

impl QueueDef {
    pub fn is_dead_letter_queue(&self) -> bool {
        self.dead_letters.is_some()
    }
}

/// A queue's name (the `QueueName` of its CloudWatch metrics) from its URL:
/// `https://sqs.<region>.amazonaws.com/<account>/<name>` → `<name>`.
pub fn queue_name(url: &str) -> Option<&str> {
    let (_, path) = url.split_once("://")?;
    let name = path.trim_end_matches('/').rsplit_once('/')?.1;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queues_name_is_the_last_segment_of_its_url() {
        let url = "https://sqs.us-east-1.amazonaws.com/123456789012/billing-Usage-AbC";
        assert_eq!(queue_name(url), Some("billing-Usage-AbC"));
        assert_eq!(queue_name("http://127.0.0.1:4566/000000000000/t1-Events.fifo/"), Some("t1-Events.fifo"));
        assert_eq!(queue_name("http://127.0.0.1:4566"), None);
    }

    #[test]
    fn names_and_aliases_are_unique_and_every_source_is_a_known_queue() {
        let mut names: Vec<&str> = QUEUES.iter().flat_map(|q| [q.name, q.alias]).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for q in QUEUES {
            if let Some(DeadLetters::From(source)) = q.dead_letters {
                let source = find(source).unwrap_or_else(|| panic!("{} redrives to unknown {source}", q.name));
                assert!(!source.is_dead_letter_queue() && source.fifo == q.fifo, "{}", q.name);
            }
        }
        assert_eq!(find("usage-dlq").map(|q| q.name), Some("UsageDeadLetterQueue"));
        assert_eq!(find("UsageDeadLetterQueue").map(|q| q.alias), Some("usage-dlq"));
        assert!(find("nope").is_none());
    }
}
