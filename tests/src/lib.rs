//! Test harness: each test gets its own table (created from template.yaml in DynamoDB Local),
//! its own manual clock, and optionally an in-process local server to call over HTTP.
//!
//! The emulator endpoints come from the environment; `make test` starts the stack and sets
//! them. Run outside `make test`, the harness says so instead of failing obscurely.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::App;
use billing::clock::ManualClock;
use billing::config::Config;
use chrono::{DateTime, TimeZone, Utc};
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

/// One test's world: an App over a fresh table, with a clock the test controls.
pub struct TestContext {
    pub app: App,
    pub clock: ManualClock,
    pub dynamo: aws_sdk_dynamodb::Client,
}

impl TestContext {
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// Like [`new`](Self::new), with extra configuration variables (e.g. Stripe keys).
    pub async fn with_env(vars: &[(&str, &str)]) -> Self {
        let aws = aws().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let table = format!("test-{}", uuid::Uuid::new_v4().simple());
        let (_, def) = template().table().expect("template has a table");
        local_server::provision::create_table(&dynamo, &table, &def)
            .await
            .expect("create test table");

        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(Config::TABLE.to_owned(), table);
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config is valid");
        let clock = ManualClock::starting_at(default_now());
        let app = App::new(config, &aws, Arc::new(clock.clone()));
        Self { app, clock, dynamo }
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

    /// Serves this context's App over HTTP on a free loopback port, like `make dev` does.
    pub async fn serve(&self) -> TestServer {
        let tokens = DevTokens::random();
        let router = local_server::server::router(self.app.clone(), tokens.clone(), template())
            .expect("router builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        TestServer {
            url,
            tokens,
            http: reqwest::Client::new(),
        }
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

impl TestServer {
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
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
        Reply {
            status,
            json,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request("GET", path, token, None).await
    }
}
