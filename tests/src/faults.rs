//! Fault injection for the DynamoDB client, as an SDK interceptor: a chosen share of
//! requests fail with exactly the errors AWS answers, which DynamoDB Local never produces.
//!
//! - `Conflict`: `TransactionConflictException` for a single-item write, or
//!   `TransactionCanceledException` with reason `TransactionConflict` for a transaction.
//! - `Throttled`: `ThrottlingException`.
//! - `ServerError`: HTTP 500 `InternalServerError`.
//! - `LostAfterApply`: the request is applied, then the answer is lost (the client sees a
//!   500), as when a connection drops after DynamoDB committed.
//! - `Unprocessed`: a `BatchGetItem` answered 200 with every key in `UnprocessedKeys` and no
//!   item, as DynamoDB answers a batch it throttled.
//!
//! A fault that must not apply is made harmless before it is sent: the request is turned
//! into a `DescribeLimits` call, whose answer is then replaced by the error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Conflict,
    Throttled,
    ServerError,
    LostAfterApply,
    Unprocessed,
}

const WRITES: [&str; 4] = ["UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems"];

/// The fault planned for the current attempt (between the transmit and deserialize hooks).
#[derive(Debug, Clone)]
struct Planned {
    fault: Fault,
    operation: String,
    items: usize,
    /// The batch's `RequestItems`, handed back as unprocessed.
    request_items: serde_json::Value,
}

impl Storable for Planned {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug)]
struct State {
    per_mille: u32,
    rng: fastrand::Rng,
    injected: BTreeMap<Fault, u32>,
    by_operation: BTreeMap<String, u32>,
    requests: u32,
    /// Set by [`FaultInjector::always`]: the one operation faulted, and how.
    only: Option<(String, Fault)>,
}

/// Fails `per_mille`/1000 of the requests it sees, with faults chosen at random among
/// those the operation can meet (reads are never in conflict nor half-applied).
#[derive(Debug, Clone)]
pub struct FaultInjector {
    state: Arc<Mutex<State>>,
}

impl FaultInjector {
    pub fn new(per_mille: u32, seed: u64) -> Self {
        let state = State {
            per_mille,
            rng: fastrand::Rng::with_seed(seed),
            injected: BTreeMap::new(),
            by_operation: BTreeMap::new(),
            requests: 0,
            only: None,
        };
        Self { state: Arc::new(Mutex::new(state)) }
    }

    /// Fails every request of `operation` with `fault`, and nothing else.
    pub fn always(operation: &str, fault: Fault) -> Self {
        let injector = Self::new(1000, 0);
        injector.lock().only = Some((operation.to_owned(), fault));
        injector
    }

    /// Stops injecting (e.g. to read the books back undisturbed).
    pub fn stop(&self) {
        self.lock().per_mille = 0;
    }

    /// Injects again, into `per_mille`/1000 of the requests.
    pub fn resume(&self, per_mille: u32) {
        self.lock().per_mille = per_mille;
    }

    /// Faults injected so far, by kind.
    pub fn injected(&self) -> BTreeMap<Fault, u32> {
        self.lock().injected.clone()
    }

    /// Faults injected so far, by operation (`TransactWriteItems`, `Query`, …).
    pub fn injected_by_operation(&self) -> BTreeMap<String, u32> {
        self.lock().by_operation.clone()
    }

    /// Requests seen so far (every attempt, including SDK retries).
    pub fn requests(&self) -> u32 {
        self.lock().requests
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn plan(&self, operation: &str) -> Option<Fault> {
        let mut state = self.lock();
        state.requests += 1;
        if state.rng.u32(0..1000) >= state.per_mille {
            return None;
        }
        let fault = if let Some((only, fault)) = &state.only {
            if only != operation {
                return None;
            }
            *fault
        } else {
            Self::pick(&mut state.rng, operation)
        };
        *state.injected.entry(fault).or_default() += 1;
        *state.by_operation.entry(operation.to_owned()).or_default() += 1;
        Some(fault)
    }

    /// A fault the operation can meet, at random (reads are never in conflict nor half-applied).
    fn pick(rng: &mut fastrand::Rng, operation: &str) -> Fault {
        let is_write = WRITES.contains(&operation);
        match (rng.u8(0..4), is_write) {
            (0, true) => Fault::Conflict,
            (1, _) | (0, false) => Fault::Throttled,
            (2, _) => Fault::ServerError,
            (_, true) => Fault::LostAfterApply,
            (_, false) if operation == "BatchGetItem" => Fault::Unprocessed,
            (_, false) => Fault::ServerError,
        }
    }
}

impl Intercept for FaultInjector {
    fn name(&self) -> &'static str {
        "FaultInjector"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_owned();
        let Some(fault) = self.plan(&operation) else {
            cfg.interceptor_state().unset::<Planned>();
            return Ok(());
        };
        let request = context.request_mut();
        let body = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .unwrap_or_default();
        let items = body["TransactItems"].as_array().map_or(1, Vec::len);
        let request_items = body["RequestItems"].clone();
        if fault != Fault::LostAfterApply {
            // Sent as a harmless read, so the failed request changes nothing.
            request.headers_mut().insert("x-amz-target", "DynamoDB_20120810.DescribeLimits");
            request.headers_mut().insert("content-length", "2");
            *request.body_mut() = SdkBody::from("{}");
        }
        cfg.interceptor_state().store_put(Planned { fault, operation, items, request_items });
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(planned) = cfg.load::<Planned>().cloned() else {
            return Ok(());
        };
        cfg.interceptor_state().unset::<Planned>();
        let (status, body) = error_answer(&planned);
        let mut response = Response::new(StatusCode::try_from(status)?, SdkBody::from(body));
        response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
        *context.response_mut() = response;
        Ok(())
    }
}

fn error_answer(planned: &Planned) -> (u16, String) {
    let error = |kind: &str, message: &str| serde_json::json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message });
    match planned.fault {
        Fault::Conflict if planned.operation == "TransactWriteItems" => {
            let reasons: Vec<serde_json::Value> = (0..planned.items)
                .map(|i| {
                    if i == 0 {
                        serde_json::json!({ "Code": "TransactionConflict", "Message": "Transaction is ongoing for the item" })
                    } else {
                        serde_json::json!({ "Code": "None" })
                    }
                })
                .collect();
            let body = serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
                "CancellationReasons": reasons,
            });
            (400, body.to_string())
        }
        Fault::Conflict => {
            (400, error("TransactionConflictException", "Transaction is ongoing for the item").to_string())
        }
        Fault::Throttled => (
            400,
            error(
                "ThrottlingException",
                "Throughput exceeds the current capacity for one or more global secondary indexes.",
            )
            .to_string(),
        ),
        Fault::ServerError | Fault::LostAfterApply => {
            (500, error("InternalServerError", "Internal server error").to_string())
        }
        Fault::Unprocessed => {
            (200, serde_json::json!({ "Responses": {}, "UnprocessedKeys": planned.request_items }).to_string())
        }
    }
}
