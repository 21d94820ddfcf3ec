//! One way to run a `TransactWriteItems` and learn how it ended.
//!
//! Why here: every concern writes several items at once (a record with its aggregate, an
//! invoice with its outbox event, a grant with its ledger entry), and "did it commit?" has one
//! answer everywhere. A failed condition is an answer, not an error (somebody else got there
//! first, or the state moved on); a cancellation by a conflicting transaction is a reason to
//! send it again; anything else is an error. [`Transacted`] says which, with the item whose
//! condition failed, its reason code and, when asked for, its old value.
//!
//! # Retry policy
//!
//! With [`Retry::Transient`]:
//!
//! - retried: a cancellation whose reasons include `TransactionConflict`, `ThrottlingError`
//!   or `ProvisionedThroughputExceeded` and no failed condition; and every failure
//!   [`StoreError::from_sdk`] calls unavailable: throttling (`ThrottlingException`,
//!   `ProvisionedThroughputExceededException`, `RequestLimitExceeded`),
//!   `TransactionInProgressException`, `InternalServerError` and other 5xx answers, transport
//!   failures and timeouts;
//! - how often: [`TRANSIENT_ATTEMPTS`](super::TRANSIENT_ATTEMPTS) attempts in all (the SDK's own retries of throttling
//!   and 5xx happen inside each);
//! - backoff: a full-jitter exponential pause between attempts, up to 4, 8, 16, 32, 64 ms
//!   (`jittered_pause`), so racing writers spread out;
//! - never retried: a failed condition, a validation error, any other cancellation reason;
//! - a transaction still cancelled by contention after the last attempt is
//!   [`Transacted::Contended`], which [`Transacted::committed`] reports as
//!   [`StoreError::Unavailable`] (the client is told 503 and may retry).
//!
//! A cancelled transaction applied nothing, so sending it again never applies anything twice.
//! After a lost answer (a 5xx or a timeout once DynamoDB had committed) the next attempt meets
//! its own writes: a transaction conditioned on its item's absence or state then fails its
//! condition, and the caller reads `false` for a write that did happen. Where that `false`
//! would skip work that must follow a first write, the site sends one attempt
//! ([`Retry::Never`]) and says so; its caller is retried whole.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};

use super::{Item, Retry, Store, StoreError, retry_while, transient_failure};

const OPERATION: &str = "TransactWriteItems";

/// The reason code of an item whose condition did not hold.
pub const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// Reason codes of a cancellation that a later attempt may not meet.
const CONTENDED: [&str; 3] = ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// How a transaction ended, short of an error.
#[derive(Debug, Clone, PartialEq)]
pub enum Transacted {
    /// Every item applied.
    Committed,
    /// Nothing applied: an item's condition did not hold.
    ConditionFailed(ConditionFailed),
    /// Nothing applied: still cancelled by conflicting transactions or throttling after the
    /// last attempt the [`Retry`] allowed.
    Contended {
        attempts: u32,
        /// Every item's reason code, in the order sent (`None`: that item was fine).
        reasons: Vec<Option<String>>,
    },
}

/// The item of a cancelled transaction whose condition failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionFailed {
    /// Its place in the transaction: the first item, in the order sent, whose condition failed.
    pub index: usize,
    /// Its cancellation reason code ([`CONDITION_FAILED`]).
    pub code: String,
    /// The item as stored, when its write asked for it with
    /// `ReturnValuesOnConditionCheckFailure::AllOld`. `None` otherwise, and from emulators
    /// that leave it out (some hand back an empty item instead).
    pub old: Option<Item>,
    /// Every item's reason code, in the order sent (`None`: that item was fine).
    pub reasons: Vec<Option<String>>,
}

impl Transacted {
    /// `true` when committed, `false` when any item's condition failed; a transaction still
    /// contended is [`StoreError::Unavailable`].
    pub fn committed(self) -> Result<bool, StoreError> {
        match self {
            Self::Committed => Ok(true),
            Self::ConditionFailed(_) => Ok(false),
            Self::Contended { .. } => Err(contended()),
        }
    }

    /// `true` when committed, `false` when the condition of the item at `index` failed: for a
    /// transaction whose one item decides whether it is new (a put conditioned on absence).
    /// Any other item failing its condition is an error, as is a contended transaction.
    pub fn committed_unless(self, index: usize) -> Result<bool, StoreError> {
        match self {
            Self::ConditionFailed(failed) if failed.index != index => Err(StoreError::Dynamo {
                operation: OPERATION,
                message: format!("item {} failed its condition (reasons {:?})", failed.index, failed.reasons),
            }),
            other => other.committed(),
        }
    }
}

fn contended() -> StoreError {
    StoreError::Unavailable { operation: OPERATION, message: "transaction conflict".into() }
}

impl Store {
    /// Runs `items` as one transaction, sending it again as `retry` allows (see the module's
    /// retry policy). An error is a failure that is neither a failed condition nor contention.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>, retry: Retry) -> Result<Transacted, StoreError> {
        let mut attempts = 0;
        let again = |result: &Result<Transacted, StoreError>| match result {
            Ok(Transacted::Contended { reasons, .. }) => Some(format!("transaction cancelled: {reasons:?}")),
            other => transient_failure(other),
        };
        let mut result = retry_while(retry, again, || {
            attempts += 1;
            // On the heap: the SDK's request future is large, and every caller's future holds it.
            let sent = Box::pin(self.client().transact_write_items().set_transact_items(Some(items.clone())).send());
            async { outcome(sent.await) }
        })
        .await;
        if let Ok(Transacted::Contended { attempts: made, .. }) = &mut result {
            *made = attempts;
        }
        result
    }
}

/// What one attempt's answer says.
fn outcome(
    sent: Result<TransactWriteItemsOutput, SdkError<TransactWriteItemsError, HttpResponse>>,
) -> Result<Transacted, StoreError> {
    let err = match sent {
        Ok(_) => return Ok(Transacted::Committed),
        Err(err) => err,
    };
    let cancelled = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => cancelled(c.cancellation_reasons(), 1),
        _ => None,
    };
    cancelled.ok_or_else(|| StoreError::from_sdk(OPERATION, err))
}

/// What a cancellation's reasons say: a failed condition first (whatever else the other
/// items met), then contention; `None` for any other reason (an error).
fn cancelled(reasons: &[CancellationReason], attempts: u32) -> Option<Transacted> {
    let codes: Vec<Option<String>> = reasons.iter().map(|r| r.code().map(str::to_owned)).collect();
    if let Some(index) = reasons.iter().position(|r| r.code() == Some(CONDITION_FAILED)) {
        return Some(Transacted::ConditionFailed(ConditionFailed {
            index,
            code: CONDITION_FAILED.to_owned(),
            old: reasons[index].item().cloned(),
            reasons: codes,
        }));
    }
    if reasons.iter().filter_map(CancellationReason::code).any(|code| CONTENDED.contains(&code)) {
        return Some(Transacted::Contended { attempts, reasons: codes });
    }
    None
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;

    fn reason(code: Option<&str>) -> CancellationReason {
        CancellationReason::builder().set_code(code.map(str::to_owned)).build()
    }

    #[test]
    fn a_failed_condition_names_its_item_and_wins_over_contention() {
        let old = Item::from([("PK".to_owned(), AttributeValue::S("ORG#acme".into()))]);
        let reasons = [
            reason(None),
            reason(Some("TransactionConflict")),
            CancellationReason::builder().code(CONDITION_FAILED).set_item(Some(old.clone())).build(),
            reason(Some(CONDITION_FAILED)),
        ];
        let Some(Transacted::ConditionFailed(failed)) = cancelled(&reasons, 1) else { panic!("a failed condition") };
        assert_eq!((failed.index, failed.code.as_str(), failed.old), (2, CONDITION_FAILED, Some(old)));
        assert_eq!(failed.reasons[1].as_deref(), Some("TransactionConflict"));
    }

    #[test]
    fn conflicts_and_throttling_are_contention_and_anything_else_an_error() {
        for code in CONTENDED {
            let reasons = [reason(None), reason(Some(code))];
            assert!(matches!(cancelled(&reasons, 1), Some(Transacted::Contended { attempts: 1, .. })), "{code}");
        }
        assert_eq!(cancelled(&[reason(Some("ValidationError")), reason(None)], 1), None);
        assert_eq!(cancelled(&[], 1), None);
    }

    #[test]
    fn committed_reads_any_failed_condition_as_false_and_committed_unless_only_its_own() {
        let failed_at = |index| {
            Transacted::ConditionFailed(ConditionFailed {
                index,
                code: CONDITION_FAILED.to_owned(),
                old: None,
                reasons: vec![],
            })
        };
        assert!(Transacted::Committed.committed().unwrap());
        assert!(!failed_at(1).committed().unwrap());
        assert!(!failed_at(0).committed_unless(0).unwrap());
        assert!(!failed_at(1).committed_unless(1).unwrap());
        assert!(!failed_at(1).committed_unless(0).unwrap_err().is_unavailable());
        let contended = Transacted::Contended { attempts: 6, reasons: vec![] };
        assert!(contended.clone().committed().unwrap_err().is_unavailable());
        assert!(contended.committed_unless(0).unwrap_err().is_unavailable());
    }
}
