//! The DynamoDB stream event source mapping, done locally: read the table's stream from
//! DynamoDB Local, keep the records the template's `FilterCriteria` lets through, hand them
//! to the consumer as a Lambda DynamoDB event, and on a reported batch item failure read
//! again from that record (as Lambda does with `ReportBatchItemFailures`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use billing::App;
use billing::lambda::StreamHandler;
use serde_json::{Value, json};

/// Where to read a shard from next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    Start,
    After(String),
    At(String),
}

/// A stream of one table, pumped into one consumer.
pub struct StreamPump {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    filters: Vec<Value>,
    batch_size: usize,
    handler: Arc<dyn StreamHandler>,
    shards: BTreeMap<String, Position>,
}

/// What one pass delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Records that passed the filters and were handed to the consumer.
    pub delivered: usize,
    /// Batches the consumer reported a failure in (to be read again).
    pub failed: usize,
}

/// A DynamoDB Streams client for the same endpoint as DynamoDB (DynamoDB Local serves both).
pub fn streams_client(aws: &aws_config::SdkConfig) -> aws_sdk_dynamodbstreams::Client {
    let mut config = aws_sdk_dynamodbstreams::config::Builder::from(aws);
    // DynamoDB Local speaks plain HTTP on loopback.
    let inner = aws.http_client().unwrap_or_else(billing::sdk_http::sdk_http_client);
    config = config.http_client(EmptyMapRepair { inner });
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB_STREAMS").is_none()
        && let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
    {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_dynamodbstreams::Client::from_conf(config.build())
}

impl StreamPump {
    /// Pumps `table`'s stream, from its oldest record, into `handler`.
    pub async fn new(
        aws: &aws_config::SdkConfig,
        table: &str,
        source: &crate::template::StreamSource,
        handler: Arc<dyn StreamHandler>,
    ) -> anyhow::Result<Self> {
        let described = aws_sdk_dynamodb::Client::new(aws)
            .describe_table()
            .table_name(table)
            .send()
            .await
            .with_context(|| format!("DescribeTable {table}"))?;
        let stream_arn = described
            .table
            .and_then(|t| t.latest_stream_arn)
            .with_context(|| format!("table {table} has no stream; is StreamSpecification in the template?"))?;
        Ok(Self {
            client: streams_client(aws),
            stream_arn,
            filters: source.filters.clone(),
            batch_size: source.batch_size.unwrap_or(100) as usize,
            handler,
            shards: BTreeMap::new(),
        })
    }

    /// Reads every shard up to its current end once and delivers what passes the filters.
    pub async fn pump_once(&mut self, app: &App) -> anyhow::Result<Pass> {
        let described = self
            .client
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeStream", e))?;
        let shard_ids: Vec<String> = described
            .stream_description
            .map(|d| d.shards.unwrap_or_default().into_iter().filter_map(|s| s.shard_id).collect())
            .unwrap_or_default();
        let mut pass = Pass::default();
        for shard in shard_ids {
            let position = self.shards.entry(shard.clone()).or_insert(Position::Start).clone();
            let (kind, sequence) = match &position {
                Position::Start => (ShardIteratorType::TrimHorizon, None),
                Position::After(s) => (ShardIteratorType::AfterSequenceNumber, Some(s.clone())),
                Position::At(s) => (ShardIteratorType::AtSequenceNumber, Some(s.clone())),
            };
            let mut iterator = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(&shard)
                .shard_iterator_type(kind)
                .set_sequence_number(sequence)
                .send()
                .await
                .map_err(|e| sdk_error("GetShardIterator", e))?
                .shard_iterator;
            while let Some(current) = iterator.take() {
                let page = self
                    .client
                    .get_records()
                    .shard_iterator(current)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetRecords", e))?;
                let records = page.records.unwrap_or_default();
                if records.is_empty() {
                    break;
                }
                iterator = page.next_shard_iterator;
                let (delivered, next) = self.deliver(app, records).await?;
                pass.delivered += delivered;
                match next {
                    Position::At(_) => {
                        pass.failed += 1;
                        self.shards.insert(shard.clone(), next);
                        break;
                    }
                    other => {
                        self.shards.insert(shard.clone(), other);
                    }
                }
            }
        }
        Ok(pass)
    }

    /// Delivers one page in batches; returns how many records went to the consumer and where
    /// the shard continues.
    async fn deliver(&self, app: &App, records: Vec<Record>) -> anyhow::Result<(usize, Position)> {
        let mut last = None;
        let mut batch: Vec<EventRecord> = Vec::new();
        let mut delivered = 0;
        for record in records {
            let sequence = record.dynamodb.as_ref().and_then(|d| d.sequence_number.clone()).unwrap_or_default();
            let lambda_record = self.to_lambda_record(record)?;
            let json = serde_json::to_value(&lambda_record)?;
            // Records the filter drops are consumed without invoking the function, as in AWS.
            if self.filters.is_empty() || self.filters.iter().any(|f| matches_pattern(f, &json)) {
                batch.push(lambda_record);
            }
            if batch.len() >= self.batch_size {
                delivered += batch.len();
                if let Some(failed) = self.invoke(app, std::mem::take(&mut batch)).await {
                    return Ok((delivered, Position::At(failed)));
                }
            }
            last = Some(sequence);
        }
        if !batch.is_empty() {
            delivered += batch.len();
            if let Some(failed) = self.invoke(app, batch).await {
                return Ok((delivered, Position::At(failed)));
            }
        }
        Ok((delivered, last.map_or(Position::Start, Position::After)))
    }

    /// Runs one batch through the consumer; the sequence number to read again from, if any.
    async fn invoke(&self, app: &App, records: Vec<EventRecord>) -> Option<String> {
        let mut event = Event::default();
        event.records = records;
        let response = billing::lambda::stream::handle_stream_batch(self.handler.as_ref(), app.clone(), event).await;
        response.batch_item_failures.into_iter().find_map(|f| f.item_identifier)
    }

    fn to_lambda_record(&self, record: Record) -> anyhow::Result<EventRecord> {
        let change = record.dynamodb.context("a stream record without its change")?;
        let item = |map: Option<std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
            serde_dynamo::Item::from(map.unwrap_or_default())
        };
        let value = json!({
            "eventID": record.event_id,
            "eventName": record.event_name.map(|n| n.as_str().to_owned()),
            "eventSource": "aws:dynamodb",
            "eventVersion": record.event_version,
            "awsRegion": record.aws_region.unwrap_or_else(|| "us-east-1".into()),
            "eventSourceARN": self.stream_arn,
            "dynamodb": {
                "ApproximateCreationDateTime": change.approximate_creation_date_time.map_or(0, |t| t.secs()),
                "Keys": item(change.keys),
                "NewImage": item(change.new_image),
                "SequenceNumber": change.sequence_number,
                "SizeBytes": change.size_bytes.unwrap_or_default(),
                "StreamViewType": change.stream_view_type.map(|v| v.as_str().to_owned()),
            },
        });
        serde_json::from_value(value).context("building the DynamoDB stream record")
    }
}

fn sdk_error<E: std::error::Error + Send + Sync + 'static>(operation: &str, err: E) -> anyhow::Error {
    anyhow::anyhow!("{operation}: {}", aws_sdk_dynamodbstreams::error::DisplayErrorContext(err))
}

/// DynamoDB Local writes an empty map attribute into stream records as `{}` instead of
/// `{"M":{}}`, which the SDK (rightly) cannot parse; the account item always has two such
/// maps. This HTTP client wrapper repairs the response body before the SDK reads it.
#[derive(Debug)]
struct EmptyMapRepair {
    inner: SharedHttpClient,
}

impl HttpClient for EmptyMapRepair {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(EmptyMapRepairConnector { inner: self.inner.http_connector(settings, components) })
    }
}

#[derive(Debug)]
struct EmptyMapRepairConnector {
    inner: SharedHttpConnector,
}

impl HttpConnector for EmptyMapRepairConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let sent = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = sent.await?;
            let body = std::mem::replace(response.body_mut(), SdkBody::taken());
            let bytes = ByteStream::new(body).collect().await.map_err(|e| ConnectorError::io(e.into()))?.into_bytes();
            *response.body_mut() = SdkBody::from(repair_empty_maps(&bytes));
            Ok(response)
        })
    }
}

/// Rewrites `{}` attribute values in a GetRecords answer as empty maps; anything else
/// passes unchanged.
pub fn repair_empty_maps(body: &[u8]) -> Vec<u8> {
    fn attribute(value: &mut Value) {
        match value {
            Value::Object(fields) if fields.is_empty() => *value = json!({ "M": {} }),
            Value::Object(fields) => {
                if let Some(Value::Object(map)) = fields.get_mut("M") {
                    map.values_mut().for_each(attribute);
                }
                if let Some(Value::Array(list)) = fields.get_mut("L") {
                    list.iter_mut().for_each(attribute);
                }
            }
            _ => {}
        }
    }
    let Ok(mut answer) = serde_json::from_slice::<Value>(body) else { return body.to_vec() };
    let Some(records) = answer.get_mut("Records").and_then(Value::as_array_mut) else { return body.to_vec() };
    for record in records {
        for image in ["Keys", "NewImage", "OldImage"] {
            if let Some(Value::Object(item)) = record.get_mut("dynamodb").and_then(|d| d.get_mut(image)) {
                item.values_mut().for_each(attribute);
            }
        }
    }
    serde_json::to_vec(&answer).unwrap_or_else(|_| body.to_vec())
}

/// Lambda event filtering for the shapes the template uses: an object pattern matches when
/// every key matches; a list matches a value equal to one of its literals or satisfying one
/// of its `{"prefix": …}` rules.
pub fn matches_pattern(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => {
            fields.iter().all(|(key, sub)| value.get(key).is_some_and(|v| matches_pattern(sub, v)))
        }
        Value::Array(options) => options.iter().any(|option| match option {
            Value::Object(rule) => match rule.get("prefix") {
                Some(Value::String(prefix)) => value.as_str().is_some_and(|v| v.starts_with(prefix.as_str())),
                _ => false,
            },
            literal => literal == value,
        }),
        literal => literal == value,
    }
}

/// Pumps the stream into its consumer until the process ends, like the event source mapping.
pub async fn pump_stream(app: App, mut pump: StreamPump) {
    loop {
        match pump.pump_once(&app).await {
            Ok(pass) if pass.delivered > 0 && pass.failed == 0 => {}
            Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "local stream pump failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_maps_in_stream_records_are_repaired_and_nothing_else_changes() {
        let body = br#"{"Records":[{"dynamodb":{"Keys":{"PK":{"S":"ORG#a"}},"NewImage":{"holds":{},"m":{"M":{"x":{},"y":{"N":"1"}}},"l":{"L":[{}]}}}}]}"#;
        let fixed: Value = serde_json::from_slice(&repair_empty_maps(body)).unwrap();
        assert_eq!(
            fixed["Records"][0]["dynamodb"]["NewImage"],
            json!({ "holds": { "M": {} }, "m": { "M": { "x": { "M": {} }, "y": { "N": "1" } } }, "l": { "L": [{ "M": {} }] } })
        );
        assert_eq!(fixed["Records"][0]["dynamodb"]["Keys"], json!({ "PK": { "S": "ORG#a" } }));
    }

    #[test]
    fn the_outbox_filter_passes_outbox_inserts_only() {
        let pattern =
            json!({ "eventName": ["INSERT"], "dynamodb": { "Keys": { "SK": { "S": [{ "prefix": "OUTBOX#" }] } } } });
        let record = |name: &str, sk: &str| json!({ "eventName": name, "dynamodb": { "Keys": { "SK": { "S": sk } } } });
        assert!(matches_pattern(&pattern, &record("INSERT", "OUTBOX#e-1")));
        assert!(!matches_pattern(&pattern, &record("MODIFY", "OUTBOX#e-1")));
        assert!(!matches_pattern(&pattern, &record("REMOVE", "OUTBOX#e-1")));
        assert!(!matches_pattern(&pattern, &record("INSERT", "ACCOUNT")));
    }
}
