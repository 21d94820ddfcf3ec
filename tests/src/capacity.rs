//! Consumed capacity, as an SDK interceptor: asks DynamoDB for `ReturnConsumedCapacity =
//! INDEXES` on every request and adds up what it reports (DynamoDB Local reports it too).
//! A conditional write whose condition failed reports nothing but is billed at least one
//! write unit on AWS; those are counted apart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// Totals since the last [`CapacityMeter::take`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consumed {
    pub requests: u32,
    /// Table read and write units.
    pub read_units: f64,
    pub write_units: f64,
    /// Units consumed on secondary indexes, by index name.
    pub index_units: BTreeMap<String, f64>,
    /// Conditional writes refused by their condition (at least one write unit each on AWS).
    pub failed_conditions: u32,
    /// Requests by operation.
    pub operations: BTreeMap<String, u32>,
    /// When each request was sent and answered (SDK retries included), to count round trips.
    pub spans: Vec<(Instant, Instant)>,
}

impl Consumed {
    /// Table write units in thousandths, exact integers for adding up many requests.
    pub fn write_units_milli(&self) -> u64 {
        (self.write_units * 1000.0).round() as u64
    }

    /// Table read units in thousandths.
    pub fn read_units_milli(&self) -> u64 {
        (self.read_units * 1000.0).round() as u64
    }

    /// Round trips a caller waited for: the longest chain of requests each sent after the
    /// previous one was answered (requests in flight together count once).
    pub fn round_trips(&self) -> u32 {
        let mut spans = self.spans.clone();
        spans.sort_by_key(|(_, answered)| *answered);
        let mut trips = 0;
        let mut free_at: Option<Instant> = None;
        for (sent, answered) in spans {
            if free_at.is_none_or(|free| sent >= free) {
                trips += 1;
                free_at = Some(answered);
            }
        }
        trips
    }
}

/// When the current request was handed to the SDK.
#[derive(Debug, Clone, Copy)]
struct Sent(Instant);

impl Storable for Sent {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone, Default)]
pub struct CapacityMeter {
    consumed: Arc<Mutex<Consumed>>,
}

impl CapacityMeter {
    pub fn take(&self) -> Consumed {
        std::mem::take(&mut *self.consumed.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn record(&self, capacity: &[ConsumedCapacity], is_read: bool) {
        let mut consumed = self.consumed.lock().unwrap_or_else(|p| p.into_inner());
        for c in capacity {
            // The table's share when reported apart from the indexes, else the total.
            let table = c.table().and_then(|t| t.capacity_units()).unwrap_or_else(|| {
                let indexes: f64 =
                    c.global_secondary_indexes().into_iter().flatten().filter_map(|(_, u)| u.capacity_units()).sum();
                c.capacity_units().unwrap_or(0.0) - indexes
            });
            if is_read {
                consumed.read_units += table;
            } else {
                consumed.write_units += table;
            }
            for (index, units) in c.global_secondary_indexes().into_iter().flatten() {
                *consumed.index_units.entry(index.clone()).or_default() += units.capacity_units().unwrap_or(0.0);
            }
        }
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Sent(Instant::now()));
        let input = context.input_mut();
        let ask = Some(ReturnConsumedCapacity::Indexes);
        if let Some(i) = input.downcast_mut::<UpdateItemInput>() {
            i.return_consumed_capacity = ask;
        } else if let Some(i) = input.downcast_mut::<PutItemInput>() {
            i.return_consumed_capacity = ask;
        } else if let Some(i) = input.downcast_mut::<GetItemInput>() {
            i.return_consumed_capacity = ask;
        } else if let Some(i) = input.downcast_mut::<DeleteItemInput>() {
            i.return_consumed_capacity = ask;
        } else if let Some(i) = input.downcast_mut::<QueryInput>() {
            i.return_consumed_capacity = ask;
        } else if let Some(i) = input.downcast_mut::<TransactWriteItemsInput>() {
            i.return_consumed_capacity = ask;
        } else if let Some(i) = input.downcast_mut::<BatchGetItemInput>() {
            i.return_consumed_capacity = ask;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_owned();
        let is_read = matches!(operation.as_str(), "GetItem" | "Query" | "BatchGetItem");
        {
            let mut consumed = self.consumed.lock().unwrap_or_else(|p| p.into_inner());
            consumed.requests += 1;
            *consumed.operations.entry(operation).or_default() += 1;
            if let Some(Sent(sent)) = cfg.load::<Sent>() {
                consumed.spans.push((*sent, Instant::now()));
            }
        }
        let output = match context.output_or_error() {
            Ok(output) => output,
            Err(err) => {
                if format!("{err:?}").contains("ConditionalCheckFailed") {
                    self.consumed.lock().unwrap_or_else(|p| p.into_inner()).failed_conditions += 1;
                }
                return Ok(());
            }
        };
        let single = |c: Option<&ConsumedCapacity>| c.cloned().into_iter().collect::<Vec<_>>();
        let capacity = if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            single(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<PutItemOutput>() {
            single(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            single(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
            single(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            single(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
            o.consumed_capacity().to_vec()
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            o.consumed_capacity().to_vec()
        } else {
            Vec::new()
        };
        self.record(&capacity, is_read);
        Ok(())
    }
}

/// An item's size as DynamoDB bills it: attribute names plus values (strings and binaries
/// by length, numbers about one byte per two digits plus one, maps and lists 3 bytes plus
/// one per element and their contents).
pub fn item_size(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &aws_sdk_dynamodb::types::AttributeValue) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    match value {
        V::S(s) => s.len(),
        V::N(n) => n.trim_start_matches('-').replace('.', "").trim_start_matches('0').len().div_ceil(2) + 1,
        V::B(b) => b.as_ref().len(),
        V::Bool(_) | V::Null(_) => 1,
        V::M(map) => 3 + map.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum::<usize>(),
        V::L(list) => 3 + list.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        V::Ss(set) => set.iter().map(String::len).sum(),
        V::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        V::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}
