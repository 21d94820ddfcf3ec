//! Reading CloudWatch metrics: `GetMetricData` over CloudWatch's AWS JSON 1.0 protocol, signed
//! with SigV4 (`aws-sigv4`) and sent on the workspace's one HTTP/TLS stack (hyper 1, rustls with
//! aws-lc-rs). Only the health view reads metrics, and only its function builds this reader.
//!
//! Why not `aws-sdk-cloudwatch`: its current releases speak only Smithy RPC v2 CBOR, which the
//! local emulator (moto) does not serve, and they link `http` 0.2 / `http-body` 0.4 through an
//! `aws-smithy-types` feature, a second HTTP stack `check-deps.sh` refuses. CloudWatch still
//! answers the JSON protocol, and one read-only call needs little.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

/// The JSON protocol's operation header prefix for CloudWatch.
const TARGET_PREFIX: &str = "GraniteServiceVersion20100801";
/// CloudWatch's SigV4 signing name.
const SIGNING_NAME: &str = "monitoring";
/// How far back a datapoint still counts as a queue's current age.
pub const AGE_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum CloudWatchError {
    #[error("no AWS credentials are configured")]
    NoCredentials,
    #[error("AWS credentials could not be loaded: {0}")]
    Credentials(String),
    #[error("no AWS region is configured")]
    NoRegion,
    #[error("the request could not be signed: {0}")]
    Sign(String),
    #[error("CloudWatch could not be reached: {0}")]
    Unreachable(String),
    #[error("CloudWatch answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("CloudWatch's answer could not be read: {0}")]
    Decode(String),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetMetricData {
    metric_data_queries: Vec<Query>,
    /// Epoch seconds, as the JSON protocol writes timestamps.
    start_time: i64,
    end_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Query {
    id: String,
    metric_stat: MetricStat,
    return_data: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricStat {
    metric: Metric,
    period: u32,
    stat: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    namespace: &'static str,
    metric_name: &'static str,
    dimensions: Vec<Dimension>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Dimension {
    name: &'static str,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    metric_data_results: Vec<Series>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Series {
    id: String,
    /// Epoch seconds and values, as JSON numbers; read exactly, not through a float.
    #[serde(default)]
    timestamps: Vec<rust_decimal::Decimal>,
    #[serde(default)]
    values: Vec<rust_decimal::Decimal>,
}

/// `GetMetricData` for each queue's per-minute maximum `ApproximateAgeOfOldestMessage`, with
/// ids `q0`, `q1`, … by position (GetMetricData takes up to 500 queries).
fn oldest_age_queries(queues: &[String]) -> Vec<Query> {
    queues
        .iter()
        .enumerate()
        .map(|(i, queue)| Query {
            id: format!("q{i}"),
            metric_stat: MetricStat {
                metric: Metric {
                    namespace: "AWS/SQS",
                    metric_name: "ApproximateAgeOfOldestMessage",
                    dimensions: vec![Dimension { name: "QueueName", value: queue.clone() }],
                },
                period: 60,
                stat: "Maximum",
            },
            return_data: true,
        })
        .collect()
}

/// The newest datapoint's value in whole seconds (none: unknown, not zero).
fn newest_seconds(series: &Series) -> Option<u64> {
    use rust_decimal::prelude::ToPrimitive;
    let newest = series.timestamps.iter().zip(&series.values).max_by_key(|(at, _)| **at)?;
    // An age: whole seconds, never negative.
    (*newest.1).max(rust_decimal::Decimal::ZERO).round().to_u64()
}

/// A signed reader of CloudWatch metrics for the process's AWS configuration.
#[derive(Clone)]
pub struct MetricsReader {
    http: Client<crate::sdk_http::HttpsConnector, Full<Bytes>>,
    aws: aws_config::SdkConfig,
    endpoint: Option<String>,
}

impl std::fmt::Debug for MetricsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsReader").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl MetricsReader {
    /// The endpoint is `AWS_ENDPOINT_URL_CLOUDWATCH`, else the configuration's endpoint, else
    /// the region's (`https://monitoring.<region>.amazonaws.com`), as the SDKs resolve it.
    pub fn new(aws: &aws_config::SdkConfig) -> Self {
        let connector = crate::sdk_http::https_connector(None);
        let endpoint = std::env::var("AWS_ENDPOINT_URL_CLOUDWATCH")
            .ok()
            .filter(|e| !e.is_empty())
            .or_else(|| aws.endpoint_url().map(str::to_owned));
        Self { http: Client::builder(TokioExecutor::new()).build(connector), aws: aws.clone(), endpoint }
    }

    /// Seconds the oldest message of each queue (by queue name) has waited, as CloudWatch's
    /// latest datapoint of the last [`AGE_WINDOW`] says; queues without one are left out.
    pub async fn oldest_message_ages(
        &self,
        queues: &[String],
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, u64>, CloudWatchError> {
        let mut ages = BTreeMap::new();
        if queues.is_empty() {
            return Ok(ages);
        }
        let mut request = GetMetricData {
            metric_data_queries: oldest_age_queries(queues),
            start_time: (now - AGE_WINDOW).timestamp(),
            end_time: now.timestamp(),
            next_token: None,
        };
        loop {
            let answer: Answer = self.call("GetMetricData", &request).await?;
            for series in &answer.metric_data_results {
                let queue =
                    series.id.strip_prefix('q').and_then(|n| n.parse::<usize>().ok()).and_then(|i| queues.get(i));
                if let (Some(queue), Some(age)) = (queue, newest_seconds(series)) {
                    // Pages repeat a series with older points; the first (newest) wins.
                    ages.entry(queue.clone()).or_insert(age);
                }
            }
            match answer.next_token {
                Some(token) => request.next_token = Some(token),
                None => return Ok(ages),
            }
        }
    }

    async fn call<T: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        body: &T,
    ) -> Result<R, CloudWatchError> {
        let region = self.aws.region().ok_or(CloudWatchError::NoRegion)?.to_string();
        let endpoint =
            self.endpoint.clone().unwrap_or_else(|| format!("https://{SIGNING_NAME}.{region}.amazonaws.com"));
        let url = format!("{}/", endpoint.trim_end_matches('/'));
        let body = serde_json::to_vec(body).map_err(|e| CloudWatchError::Sign(e.to_string()))?;
        let target = format!("{TARGET_PREFIX}.{operation}");
        let mut request = http::Request::builder()
            .method("POST")
            .uri(&url)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", &target)
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| CloudWatchError::Sign(e.to_string()))?;
        self.sign(&mut request, &url, &target, &body, &region).await?;
        let response = self.http.request(request).await.map_err(|e| CloudWatchError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes =
            response.into_body().collect().await.map_err(|e| CloudWatchError::Unreachable(e.to_string()))?.to_bytes();
        if status != 200 {
            let body = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            return Err(CloudWatchError::Refused { status, body });
        }
        serde_json::from_slice(&bytes).map_err(|e| CloudWatchError::Decode(e.to_string()))
    }

    async fn sign(
        &self,
        request: &mut http::Request<Full<Bytes>>,
        url: &str,
        target: &str,
        body: &[u8],
        region: &str,
    ) -> Result<(), CloudWatchError> {
        let provider = self.aws.credentials_provider().ok_or(CloudWatchError::NoCredentials)?;
        let credentials =
            provider.provide_credentials().await.map_err(|e| CloudWatchError::Credentials(e.to_string()))?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(SIGNING_NAME)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| CloudWatchError::Sign(e.to_string()))?
            .into();
        let headers = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", target)];
        let signable = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| CloudWatchError::Sign(e.to_string()))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| CloudWatchError::Sign(e.to_string()))?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_queue_is_asked_by_name_for_its_per_minute_maximum() {
        let body = serde_json::to_value(GetMetricData {
            metric_data_queries: oldest_age_queries(&["billing-Usage".into(), "billing-Usage-dlq".into()]),
            start_time: 100,
            end_time: 400,
            next_token: None,
        })
        .unwrap();
        assert_eq!(
            body["MetricDataQueries"][1],
            serde_json::json!({ "Id": "q1", "ReturnData": true, "MetricStat": { "Period": 60, "Stat": "Maximum",
                "Metric": { "Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage",
                            "Dimensions": [{ "Name": "QueueName", "Value": "billing-Usage-dlq" }] } } })
        );
        assert_eq!((body["StartTime"].as_i64(), body.get("NextToken")), (Some(100), None));
    }

    #[test]
    fn the_newest_datapoint_is_the_age_whatever_order_they_come_in() {
        let series: Series = serde_json::from_value(serde_json::json!({
            "Id": "q0", "Timestamps": [120, 180.0, 60], "Values": [40.4, 99.6, 7]
        }))
        .unwrap();
        assert_eq!(newest_seconds(&series), Some(100));
        let empty = Series { id: "q1".into(), timestamps: Vec::new(), values: Vec::new() };
        assert_eq!(newest_seconds(&empty), None, "no datapoint: unknown, not 0");
    }
}
