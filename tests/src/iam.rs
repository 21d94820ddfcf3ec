//! The IAM actions DynamoDB requests need, as an SDK interceptor, and the actions SAM's policy
//! templates grant: so a test can hold what a function did against what its policy allows.
//! A transaction needs the action of each of its parts (`Put` → `dynamodb:PutItem`,
//! `ConditionCheck` → `dynamodb:ConditionCheckItem`, …), not an action of its own.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

#[derive(Debug, Clone, Default)]
pub struct IamActions {
    actions: Arc<Mutex<BTreeSet<String>>>,
}

impl IamActions {
    /// Actions needed since the last call (`GetItem`, `PutItem`, …), and resets them.
    pub fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.actions.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Intercept for IamActions {
    fn name(&self) -> &'static str {
        "IamActions"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_owned();
        let mut needed = Vec::new();
        if operation == "TransactWriteItems" {
            let body = context
                .request()
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                .unwrap_or_default();
            for part in body["TransactItems"].as_array().into_iter().flatten() {
                for (kind, action) in [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                ] {
                    if part.get(kind).is_some() {
                        needed.push(action.to_owned());
                    }
                }
            }
        } else {
            needed.push(operation);
        }
        self.actions.lock().unwrap_or_else(|p| p.into_inner()).extend(needed);
        Ok(())
    }
}

/// The DynamoDB actions a SAM policy template grants on the table. Unknown templates grant
/// nothing.
pub fn granted_by(policy: &str) -> &'static [&'static str] {
    match policy {
        "DynamoDBReadPolicy" => &["GetItem", "Scan", "Query", "BatchGetItem", "DescribeTable"],
        "DynamoDBWritePolicy" => &["PutItem", "UpdateItem", "BatchWriteItem"],
        "DynamoDBCrudPolicy" => &[
            "GetItem",
            "DeleteItem",
            "PutItem",
            "Scan",
            "Query",
            "UpdateItem",
            "BatchWriteItem",
            "BatchGetItem",
            "ConditionCheckItem",
            "DescribeTable",
        ],
        _ => &[],
    }
}
