//! A conditional put or update that hands back the stored item when its condition fails.
//!
//! Why here: a write conditioned on what is stored (absent, at a version, in a state) that
//! loses learns why from the item DynamoDB returns with the failure
//! (`ReturnValuesOnConditionCheckFailure::AllOld`), rather than from a second read that
//! could see a later state. Asking for it, sending the request (again, as a [`Retry`]
//! allows) and taking the item out of `ConditionalCheckFailedException` is the same for
//! every such write, so it is written once. A write that only needs to know whether it
//! applied uses `written`; a transaction's item asks for its old value
//! through [`transact`](super::transact).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::{Item, Retry, Store, StoreError, retry_while, transient_failure};

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked<T> {
    /// The condition held and the write applied.
    Written(T),
    /// The condition failed and nothing was written: the item as stored (`None` when there
    /// is none, and from emulators that leave it out).
    Refused(Option<Item>),
}

impl Store {
    /// Sends a conditional put, asking for the stored item should its condition fail.
    pub(crate) async fn put_checked(&self, put: PutItemFluentBuilder, retry: Retry) -> Result<Checked<()>, StoreError> {
        let put = put.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let refused = |err: &PutItemError| match err {
            PutItemError::ConditionalCheckFailedException(failed) => Some(failed.item.clone()),
            _ => None,
        };
        checked("PutItem", retry, || put.clone().send(), drop, refused).await
    }

    /// Sends a conditional update, asking for the stored item should its condition fail.
    /// Written, it returns the attributes the request asked for (`ReturnValues`; empty when
    /// none).
    pub(crate) async fn update_checked(
        &self,
        update: UpdateItemFluentBuilder,
        retry: Retry,
    ) -> Result<Checked<Item>, StoreError> {
        let update = update.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let written =
            |sent: aws_sdk_dynamodb::operation::update_item::UpdateItemOutput| sent.attributes.unwrap_or_default();
        let refused = |err: &UpdateItemError| match err {
            UpdateItemError::ConditionalCheckFailedException(failed) => Some(failed.item.clone()),
            _ => None,
        };
        checked("UpdateItem", retry, || update.clone().send(), written, refused).await
    }
}

/// Sends a write as `retry` allows and sorts its answer: written, refused (with the item
/// `refused` finds in the error), or an error.
async fn checked<O, E, T, Fut>(
    operation: &'static str,
    retry: Retry,
    mut send: impl FnMut() -> Fut,
    written: impl Fn(O) -> T,
    refused: impl Fn(&E) -> Option<Option<Item>>,
) -> Result<Checked<T>, StoreError>
where
    Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    retry_while(retry, transient_failure, || {
        // On the heap: the SDK's request future is large, and every caller's future holds it.
        let sent = Box::pin(send());
        async {
            match sent.await {
                Ok(out) => Ok(Checked::Written(written(out))),
                Err(err) => match err.as_service_error().and_then(&refused) {
                    Some(old) => Ok(Checked::Refused(old)),
                    None => Err(StoreError::from_sdk(operation, err)),
                },
            }
        }
    })
    .await
}
