//! What each benchmarked function is sent and what counts as a right answer.
//!
//! Events are the ones AWS sends: API Gateway HTTP API payload 2.0 (with the authorizer
//! context the route's `Auth` in template.yaml produces, as the local server builds it), an
//! SQS batch, the EventBridge Scheduler `Input` of the function's schedule. An answer is
//! right only if its status and body shape are what the function promises; anything else
//! fails the bench.

use anyhow::{Context, bail, ensure};
use local_server::template::{Route, RouteAuth};
use serde_json::{Value, json};

use crate::stack::Stack;

/// A function the bench knows how to call.
pub struct Probe {
    kind: Kind,
}

enum Kind {
    /// The hello world: answers the event.
    Echo,
    /// The AWS floor: one `GetItem` of a key no one writes.
    Read,
    /// `GET /config`: public.
    Config(Route),
    /// `POST .../reservations`: IAM, the workflow engine, a paying organization.
    Reserve(Route),
    /// `GET .../quota`: a member's JWT.
    Quota(Route),
    /// The usage queue's consumer: a batch of LLM call costs. A message it rejects goes to
    /// its dead-letter queue and leaves no trace in the answer, so that queue must stay empty.
    UsageBatch { queue_arn: String, dead_letter_queue: String },
    /// A scheduled job: its schedule's input.
    Schedule(Value),
}

impl Probe {
    pub fn for_binary(binary: &str, stack: &Stack) -> anyhow::Result<Self> {
        match binary {
            "lambda-hello" => return Ok(Self { kind: Kind::Echo }),
            "lambda-sdk-floor" => return Ok(Self { kind: Kind::Read }),
            _ => {}
        }
        let def = stack
            .template
            .functions()?
            .into_iter()
            .find(|f| f.binary == binary)
            .with_context(|| format!("{binary} is not a function of template.yaml"))?;
        let route = def.routes.first().cloned();
        let kind = match binary {
            "http-get-config" => Kind::Config(route.context("no route")?),
            "http-post-reservation" => Kind::Reserve(route.context("no route")?),
            "http-get-quota" => Kind::Quota(route.context("no route")?),
            "sqs-usage-events" => {
                let queue = def.queues.first().context("no queue")?;
                let queue_arn = stack.resources.queue_arns.get(queue).cloned().context("queue not provisioned")?;
                let dead_letter_queue = def
                    .env_refs
                    .get("DEAD_LETTER_QUEUE_URL")
                    .and_then(|q| stack.resources.queue_urls.get(q))
                    .cloned()
                    .context("no DEAD_LETTER_QUEUE_URL")?;
                Kind::UsageBatch { queue_arn, dead_letter_queue }
            }
            _ if !def.schedules.is_empty() => Kind::Schedule(def.schedules[0].input.clone()),
            _ => bail!("lambda-bench has no probe for {binary} (see tests/lambda-bench/src/probes.rs)"),
        };
        Ok(Self { kind })
    }

    /// Data the calls of one cold start need, written before the process starts.
    pub async fn prepare(&self, stack: &Stack, tag: &str) -> anyhow::Result<()> {
        match self.kind {
            Kind::Reserve(_) | Kind::Quota(_) | Kind::UsageBatch { .. } => stack.seed_paying_org(&org(tag)).await,
            _ => Ok(()),
        }
    }

    /// Checks what the answers cannot show, after all cold starts.
    pub async fn verify_after(&self, stack: &Stack) -> anyhow::Result<()> {
        if let Kind::UsageBatch { dead_letter_queue, .. } = &self.kind {
            let rejected = stack.queue_depth(dead_letter_queue).await?;
            ensure!(rejected == 0, "{rejected} usage messages were rejected to the dead-letter queue");
        }
        Ok(())
    }

    /// The `n`th event of the cold start `tag`.
    pub fn event(&self, tag: &str, n: usize) -> Value {
        match &self.kind {
            Kind::Echo => json!({ "n": n }),
            Kind::Read => json!({ "key": format!("FLOOR#{tag}-{n}") }),
            Kind::Config(route) => gateway_event(route, &route.path, &[], None),
            Kind::Reserve(route) => {
                let body = json!({ "run_id": run_id(tag, n), "kind": "standard" });
                let path = route.path.replace("{organization_id}", &org(tag));
                gateway_event(route, &path, &[("organization_id", &org(tag))], Some(body))
            }
            Kind::Quota(route) => {
                let path = route.path.replace("{organization_id}", &org(tag));
                gateway_event(route, &path, &[("organization_id", &org(tag))], None)
            }
            Kind::UsageBatch { queue_arn, .. } => sqs_batch(queue_arn, tag, n),
            Kind::Schedule(input) => input.clone(),
        }
    }

    /// Fails unless `answer` is what the function promises for `event(tag, n)`.
    pub fn check(&self, tag: &str, n: usize, answer: &Value) -> anyhow::Result<()> {
        match &self.kind {
            Kind::Echo => ensure!(answer == &json!({ "hello": { "n": n } }), "wrong echo"),
            Kind::Read => ensure!(answer == &json!({ "found": false }), "wrong read"),
            Kind::Config(_) => {
                let body = http_body(answer, 200)?;
                ensure!(body["publishable_key"] == "pk_test_local", "publishable_key is not the configured key");
                ensure!(body["is_configured"] == true, "is_configured is not true");
            }
            Kind::Reserve(_) => {
                let body = http_body(answer, 201)?;
                ensure!(body["run_id"] == run_id(tag, n).as_str(), "not the requested run");
                ensure!(body["organization_id"] == org(tag).as_str(), "not the requested organization");
                ensure!(body["bucket"].is_string(), "no bucket");
            }
            Kind::Quota(_) => {
                let body = http_body(answer, 200)?;
                ensure!(body.is_object(), "not a quota object");
            }
            Kind::UsageBatch { .. } => {
                ensure!(answer == &json!({ "batchItemFailures": [] }), "messages failed");
            }
            Kind::Schedule(_) => {
                ensure!(answer.is_object(), "not a job summary");
                ensure!(answer.get("failed").is_none_or(|f| f == 0), "the job reports failures");
            }
        }
        Ok(())
    }
}

fn org(tag: &str) -> String {
    format!("bench-{tag}")
}

fn run_id(tag: &str, n: usize) -> String {
    format!("bench-{tag}-{n}")
}

/// The HTTP response's JSON body, if its status is `status`.
fn http_body(answer: &Value, status: u64) -> anyhow::Result<Value> {
    let got = answer["statusCode"].as_u64();
    let text = answer["body"].as_str().unwrap_or_default();
    ensure!(got == Some(status), "status {got:?}, expected {status}: {text}");
    serde_json::from_str(text).context("the body is not JSON")
}

/// An API Gateway HTTP API (payload 2.0) event, shaped as the local server's
/// `gateway_event` builds it, with the authorizer context the route's `Auth` produces.
fn gateway_event(route: &Route, path: &str, params: &[(&str, &str)], body: Option<Value>) -> Value {
    let now = chrono::Utc::now();
    let route_key = format!("{} {}", route.method, route.path);
    let mut context = json!({
        "accountId": "000000000000",
        "apiId": "bench",
        "domainName": "bench.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "bench",
        "http": { "method": route.method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "lambda-bench" },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    let mut headers = json!({ "host": "bench.execute-api.us-east-1.amazonaws.com", "user-agent": "lambda-bench" });
    match &route.auth {
        RouteAuth::None => {}
        RouteAuth::Iam => {
            // The workflow engine's role session, as API Gateway's IAM authorization passes it.
            context["authorizer"] = json!({ "iam": {
                "accountId": "000000000000",
                "callerId": "AROAEXAMPLE:bench",
                "userArn": "arn:aws:sts::000000000000:assumed-role/workflow-engine/bench",
                "userId": "AROAEXAMPLE:bench",
            }});
        }
        RouteAuth::Jwt(_) => {
            // A member of the organization, as the JWT authorizer passes verified claims.
            let org = params.iter().find(|(k, _)| *k == "organization_id").map(|(_, v)| *v).unwrap_or("demo");
            let claims = json!({ "sub": format!("user-{org}"), "org_id": org, "iss": local_server::tokens::ISSUER,
                                 "aud": local_server::tokens::AUDIENCE });
            context["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
            headers["authorization"] = json!("Bearer <verified by API Gateway>");
        }
    }
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    let params: serde_json::Map<String, Value> = params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "pathParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "requestContext": context,
        "body": body.map(|b| Value::String(b.to_string())),
        "isBase64Encoded": false,
    })
}

/// An SQS batch of three `llm_call` usage messages, as the event source mapping delivers it.
fn sqs_batch(queue_arn: &str, tag: &str, n: usize) -> Value {
    let now = chrono::Utc::now();
    let records: Vec<Value> = (0..3)
        .map(|i| {
            let body = json!({
                "type": "llm_call", "event_id": format!("bench-{tag}-{n}-{i}"), "organization_id": org(tag),
                "run_id": run_id(tag, n), "provider": "openai", "model": "gpt-4o", "prompt_tokens": 1000,
                "completion_tokens": 100, "payer": "platform", "recorded_at": now.to_rfc3339(),
            });
            json!({
                "messageId": uuid::Uuid::new_v4().to_string(),
                "receiptHandle": format!("bench-{tag}-{n}-{i}"),
                "body": body.to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now.timestamp_millis().to_string(),
                    "SenderId": "AROAEXAMPLE:workflow-engine",
                    "ApproximateFirstReceiveTimestamp": now.timestamp_millis().to_string(),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}
