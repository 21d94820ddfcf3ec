//! Test harness: each test gets its own table (created from template.yaml in DynamoDB Local),
//! its own manual clock, and optionally an in-process local server to call over HTTP.
//!
//! The emulator endpoints come from the environment; `make test` starts the stack and sets
//! them. Run outside `make test`, the harness says so instead of failing obscurely.
//!
//! Beside the harness, typed helpers per concern of the `billing` crate ([`quota`],
//! [`invoicing`], [`stripe_events`], …): what the tests of several behaviour groups share, so
//! no test module imports from another.

pub mod accounts;
pub mod capacity;
pub mod fake_stripe;
pub mod faults;
pub mod iam;
pub mod invoicing;
pub mod operators;
pub mod purchases;
pub mod quota;
pub mod stripe_events;
pub mod subscriptions;
pub mod usage;
pub mod values;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::App;
use billing::accounts::store::AccountItem;
use billing::clock::{Clock, ManualClock};
use billing::config::Config;
use billing::ids::OrganizationId;
use billing::store::calls::CallCounter;
use chrono::{DateTime, TimeZone, Utc};
use local_server::provision::Provisioned;
use local_server::template::Template;
use local_server::tokens::DevTokens;

pub fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| Template::load_default().expect("template.yaml loads"))
}

fn require_stack() {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
        "the local stack is not running: run the tests with `make test` (it starts DynamoDB Local, moto and stripe-mock)"
    );
}

async fn aws() -> aws_config::SdkConfig {
    require_stack();
    billing::app::load_aws_config().await
}

/// A fixed, readable instant for tests that do not care about the date.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
}

/// Settings every test world shares with `make dev`: the workflow engine's role, which the
/// local server gives the service token.
fn local_defaults() -> HashMap<String, String> {
    HashMap::from([("WORKFLOW_ENGINE_PRINCIPALS".to_owned(), local_server::server::LOCAL_ENGINE_ROLE.to_owned())])
}

/// A DynamoDB client that counts its requests, their capacity and the IAM actions they need.
fn counted_client(
    aws: &aws_config::SdkConfig,
    calls: &CallCounter,
    capacity: &capacity::CapacityMeter,
    actions: &iam::IamActions,
) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(aws)
            .interceptor(calls.clone())
            .interceptor(capacity.clone())
            .interceptor(actions.clone())
            .build(),
    )
}

/// One test's world: an App over a fresh table, with a clock the test controls.
pub struct TestContext {
    pub app: App,
    pub clock: ManualClock,
    pub dynamo: aws_sdk_dynamodb::Client,
    /// Requests the App's DynamoDB client has sent, by operation.
    pub calls: CallCounter,
    /// Capacity the App's DynamoDB requests consumed, as DynamoDB reports it.
    pub capacity: capacity::CapacityMeter,
    /// IAM actions the App's DynamoDB requests needed.
    pub actions: iam::IamActions,
    /// Queues and bus, when the context was made [`with_messaging`](Self::with_messaging).
    pub resources: Option<Provisioned>,
    pub aws: aws_config::SdkConfig,
    pub prefix: String,
}

impl TestContext {
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// Like [`new`](Self::new), with the App's DynamoDB client failing requests as `faults`
    /// decides (the test's own `dynamo` client is never faulted).
    pub async fn with_faults(faults: faults::FaultInjector) -> Self {
        let mut ctx = Self::new().await;
        let faulty = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&ctx.aws)
                .interceptor(ctx.calls.clone())
                .interceptor(ctx.capacity.clone())
                .interceptor(ctx.actions.clone())
                .interceptor(faults)
                // The SDK's own retries as in production, with pauses short enough for a test.
                .retry_config(
                    aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                        .with_initial_backoff(std::time::Duration::from_millis(10)),
                )
                .build(),
        );
        ctx.app = App::with_dynamo((*ctx.app.config).clone(), &ctx.aws, faulty, Arc::new(ctx.clock.clone()));
        ctx
    }

    /// A context with messaging whose Stripe is stripe-mock behind a recording
    /// [`FakeStripe`](fake_stripe::FakeStripe) (what our requests asked of Stripe), with the
    /// webhook secret and Stripe prices (`("STRIPE_PRICE_PRO", "price_pro")`) given.
    pub async fn with_recorded_stripe(
        webhook_secret: &str,
        prices: &[(&str, &str)],
    ) -> (Self, fake_stripe::FakeStripe) {
        let mock = std::env::var("STRIPE_API_BASE").expect("stripe-mock runs in the test stack");
        let stripe = fake_stripe::FakeStripe::recording(&mock).await;
        let mut vars = vec![
            ("STRIPE_WEBHOOK_SECRET", webhook_secret),
            ("STRIPE_SECRET_KEY", "sk_test_123"),
            ("STRIPE_API_BASE", stripe.url.as_str()),
        ];
        vars.extend_from_slice(prices);
        (Self::with_messaging(&vars).await, stripe)
    }

    /// Like [`new`](Self::new), with extra configuration variables (e.g. Stripe keys).
    pub async fn with_env(vars: &[(&str, &str)]) -> Self {
        let aws = aws().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let table = format!("test-{}", uuid::Uuid::new_v4().simple());
        let (_, def) = template().table().expect("template has a table");
        local_server::provision::create_table(&dynamo, &table, &def).await.expect("create test table");

        let mut env: HashMap<String, String> = local_defaults();
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env.insert(Config::TABLE.to_owned(), table);
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config is valid");
        let clock = ManualClock::starting_at(default_now());
        let (calls, capacity, actions) =
            (CallCounter::default(), capacity::CapacityMeter::default(), iam::IamActions::default());
        let counted = counted_client(&aws, &calls, &capacity, &actions);
        let app = App::with_dynamo(config, &aws, counted, Arc::new(clock.clone()));
        Self { app, clock, dynamo, calls, capacity, actions, resources: None, aws, prefix: String::new() }
    }

    /// A context with every template resource (table, usage queue and its DLQ, event bus)
    /// under a prefix of its own, wired into the App's configuration.
    pub async fn with_messaging(vars: &[(&str, &str)]) -> Self {
        let aws = aws().await;
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let resources = local_server::provision::provision_all(&aws, template(), &prefix).await.expect("provision");
        // The context's own resources first; the test's variables override them.
        let mut env: HashMap<String, String> = local_defaults();
        env.extend([
            ("EVENT_BUS_NAME".to_owned(), resources.bus_names.values().next().cloned().expect("bus")),
            ("USAGE_QUEUE_URL".to_owned(), resources.queue_urls["UsageQueue"].clone()),
            ("DEAD_LETTER_QUEUE_URL".to_owned(), resources.queue_urls["UsageDeadLetterQueue"].clone()),
            ("NOTIFICATION_TOPIC_ARN".to_owned(), resources.topic_arns["NotificationTopic"].clone()),
            ("STRIPE_EVENTS_QUEUE_URL".to_owned(), resources.queue_urls["StripeEventsQueue"].clone()),
            ("BYO_KEYS_KMS_KEY_ID".to_owned(), resources.kms_key_ids["ByoKeysKmsKey"].clone()),
        ]);
        // Every queue an operator sees (health, redrive), as the local server sets them.
        for queue in billing::operators::rules::queues::QUEUES {
            if let Some(url) = resources.queue_urls.get(queue.name) {
                env.entry(queue.env.to_owned()).or_insert_with(|| url.clone());
            }
        }
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env.insert(Config::TABLE.to_owned(), resources.table_name.clone());
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config is valid");
        let clock = ManualClock::starting_at(default_now());
        let (calls, capacity, actions) =
            (CallCounter::default(), capacity::CapacityMeter::default(), iam::IamActions::default());
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let counted = counted_client(&aws, &calls, &capacity, &actions);
        let app = App::with_dynamo(config, &aws, counted, Arc::new(clock.clone()));
        Self { app, clock, dynamo, calls, capacity, actions, resources: Some(resources), aws, prefix }
    }

    /// A queue receiving every billing event published on this context's bus.
    pub async fn event_spy(&self) -> EventSpy {
        let resources = self.resources.as_ref().expect("use TestContext::with_messaging");
        let bus = resources.bus_names.values().next().expect("bus");
        let url = local_server::pump::route_rule_to_queue(
            &self.aws,
            bus,
            &format!("{}-spy", self.prefix),
            &serde_json::json!({ "source": ["billing"] }),
        )
        .await
        .expect("spy rule");
        EventSpy { url, sqs: aws_sdk_sqs::Client::new(&self.aws) }
    }

    /// Every message waiting on one of this context's queues (by logical id), removed.
    pub async fn drain_queue(&self, logical_id: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let url = &self.resources.as_ref().expect("use TestContext::with_messaging").queue_urls[logical_id];
        drain(&aws_sdk_sqs::Client::new(&self.aws), url).await
    }

    /// Every item in this test's table, for assertions about what was (not) written.
    pub async fn all_items(&self) -> Vec<HashMap<String, AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamo
                .scan()
                .table_name(self.app.store.table())
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan test table");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// Creates (or returns) the organization's account, as a first visit would.
    pub async fn account(&self, org: &str) -> AccountItem {
        let org = OrganizationId::parse(org).expect("valid org id");
        let catalog = self.app.catalog();
        let fresh = AccountItem::new_free(
            &org,
            self.clock.now(),
            catalog.free_workflows_per_month(),
            catalog.free_tier.clone(),
        );
        self.app.store.get_or_create_account(fresh).await.expect("account")
    }

    /// Reads the account as stored right now.
    pub async fn stored_account(&self, org: &str) -> AccountItem {
        let org = OrganizationId::parse(org).expect("valid org id");
        self.app.store.get_account(&org).await.expect("read account").expect("account exists")
    }

    /// Changes the stored account directly, the way an admin action or webhook would (tier,
    /// balances, limits, status), bypassing every handler.
    pub async fn update_account(&self, org: &str, set: &str, values: &[(&str, AttributeValue)]) {
        self.account(org).await;
        let mut request = self
            .dynamo
            .update_item()
            .table_name(self.app.store.table())
            .key("PK", AttributeValue::S(format!("ORG#{org}")))
            .key("SK", AttributeValue::S("ACCOUNT".into()))
            .update_expression(set);
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        // `#word` in the expression stands for the attribute `word` (for reserved words like status).
        for word in
            set.split(|c: char| !(c.is_ascii_alphanumeric() || c == '#' || c == '_')).filter(|w| w.starts_with('#'))
        {
            request = request.expression_attribute_names(word, &word[1..]);
        }
        request.send().await.expect("update account");
    }

    /// How many events of `event_type` the outbox holds (each announced once).
    pub async fn outbox_events(&self, event_type: &str) -> usize {
        self.items_with_prefix("OUTBOX#")
            .await
            .iter()
            .filter(|item| item.get("event_type").and_then(|v| v.as_s().ok()).map(String::as_str) == Some(event_type))
            .count()
    }

    /// Items of this test's table whose sort key starts with `prefix`.
    pub async fn items_with_prefix(&self, prefix: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.all_items()
            .await
            .into_iter()
            .filter(|item| item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with(prefix)))
            .collect()
    }

    /// Serves this context's App over HTTP on a free loopback port, like `make dev` does.
    pub async fn serve(&self) -> TestServer {
        let tokens = DevTokens::random();
        let router = local_server::server::router(self.app.clone(), tokens.clone(), template()).expect("router builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        TestServer { url, tokens, http: reqwest::Client::new() }
    }
}

impl TestContext {
    /// The local event source mapping of the outbox: this context's table stream into the
    /// `stream-outbox` consumer, with the template's filter. Reads from the stream's start.
    pub async fn outbox(&self) -> local_server::stream::StreamPump {
        let source = template()
            .functions()
            .expect("template functions")
            .into_iter()
            .find(|f| f.binary == "stream-outbox")
            .and_then(|f| f.streams.into_iter().next())
            .expect("stream-outbox has a DynamoDB stream event");
        local_server::stream::StreamPump::new(
            &self.aws,
            self.app.store.table(),
            &source,
            Arc::new(stream_outbox::handle),
        )
        .await
        .expect("outbox stream pump")
    }

    /// Delivers the outbox with `app` (whose publisher may be failing) until a pass finds
    /// nothing new and nothing failed, as Lambda's retries would; returns every pass.
    pub async fn drain_outbox(
        &self,
        pump: &mut local_server::stream::StreamPump,
        app: &App,
    ) -> Vec<local_server::stream::Pass> {
        let mut passes = Vec::new();
        for _ in 0..50 {
            let pass = pump.pump_once(app).await.expect("outbox pass");
            passes.push(pass);
            if pass.delivered == 0 && pass.failed == 0 {
                return passes;
            }
        }
        panic!("the outbox did not drain in 50 passes: {passes:?}");
    }

    /// This context's App with an EventBridge client whose first `failures` PutEvents calls
    /// answer 500 InternalException (and publish nothing).
    pub fn with_failing_put_events(&self, failures: u32) -> (App, FailingPutEvents) {
        self.with_put_events_injector(FailingPutEvents::new(failures))
    }

    /// This context's App with an EventBridge client whose PutEvents calls go through `injector`.
    pub fn with_put_events_injector(&self, injector: FailingPutEvents) -> (App, FailingPutEvents) {
        let client = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(&self.aws)
                .interceptor(injector.clone())
                // One attempt per call, so `failures` counts calls the publisher sees fail.
                .retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
                .build(),
        );
        let app = self.app.with_events(billing::events::Publisher::new(client, self.app.config.event_bus_name.clone()));
        (app, injector)
    }
}

/// Fails chosen EventBridge `PutEvents` calls with a 500 `InternalException`. A clean failure
/// empties the request before it is sent, so nothing is published; an ambiguous one lets the
/// events through and only the answer says it failed (a lost response).
#[derive(Debug, Clone)]
pub struct FailingPutEvents {
    ambiguous: bool,
    remaining: Arc<std::sync::atomic::AtomicU32>,
    injected: Arc<std::sync::atomic::AtomicU32>,
    failing_now: Arc<std::sync::atomic::AtomicBool>,
}

impl FailingPutEvents {
    pub fn new(failures: u32) -> Self {
        Self {
            ambiguous: false,
            remaining: Arc::new(failures.into()),
            injected: Arc::default(),
            failing_now: Arc::default(),
        }
    }

    /// The first `failures` calls publish their events but answer 500.
    pub fn ambiguous(failures: u32) -> Self {
        Self { ambiguous: true, ..Self::new(failures) }
    }

    /// How many calls were failed so far.
    pub fn injected(&self) -> u32 {
        self.injected.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl aws_sdk_eventbridge::config::Intercept for FailingPutEvents {
    fn name(&self) -> &'static str {
        "FailingPutEvents"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_eventbridge::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_sdk_eventbridge::config::RuntimeComponents,
        _cfg: &mut aws_sdk_eventbridge::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        use std::sync::atomic::Ordering;
        let fail = self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        self.failing_now.store(fail, Ordering::SeqCst);
        if fail && !self.ambiguous {
            *context.request_mut().body_mut() = aws_smithy_types::body::SdkBody::from(r#"{"Entries":[]}"#);
            context.request_mut().headers_mut().insert("content-length", "14");
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_sdk_eventbridge::config::interceptors::BeforeDeserializationInterceptorContextMut<'_>,
        _components: &aws_sdk_eventbridge::config::RuntimeComponents,
        _cfg: &mut aws_sdk_eventbridge::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        use std::sync::atomic::Ordering;
        if self.failing_now.swap(false, Ordering::SeqCst) {
            let body = r#"{"__type":"InternalException","message":"injected failure"}"#;
            let mut response = aws_sdk_eventbridge::config::http::HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500).expect("500 is a status"),
                aws_smithy_types::body::SdkBody::from(body),
            );
            response.headers_mut().insert("content-type", "application/x-amz-json-1.1");
            response.headers_mut().insert("x-amzn-errortype", "InternalException");
            *context.response_mut() = response;
            self.injected.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Collects the domain events published during a test.
pub struct EventSpy {
    url: String,
    sqs: aws_sdk_sqs::Client,
}

impl EventSpy {
    /// Every event delivered so far, as envelopes (the EventBridge event's `detail`).
    pub async fn events(&self) -> Vec<billing::events::Envelope> {
        drain(&self.sqs, &self.url)
            .await
            .into_iter()
            .map(|m| {
                let event: serde_json::Value =
                    serde_json::from_str(m.body.as_deref().unwrap_or("null")).expect("event JSON");
                serde_json::from_value(event["detail"].clone()).expect("a billing envelope")
            })
            .collect()
    }
}

async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        for m in &batch {
            sqs.delete_message()
                .queue_url(url)
                .set_receipt_handle(m.receipt_handle.clone())
                .send()
                .await
                .expect("delete");
        }
        all.extend(batch);
    }
}

pub struct TestServer {
    pub url: String,
    pub tokens: DevTokens,
    pub http: reqwest::Client,
}

/// A response reduced to what tests assert on.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub json: serde_json::Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// A response header as text, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

impl TestServer {
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        self.request_with_headers(method, path, token, body, &[]).await
    }

    /// [`Self::request`] with extra headers (`Idempotency-Key`, …).
    pub async fn request_with_headers(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.expect("local server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        Reply { status, json, headers }
    }

    /// A token for the internal (IAM) routes, standing in for the workflow engine's SigV4.
    pub fn service_token(&self) -> String {
        self.tokens.mint("workflow-engine", serde_json::json!({ "groups": [local_server::server::SERVICE_GROUP] }))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request("GET", path, token, None).await
    }
}
