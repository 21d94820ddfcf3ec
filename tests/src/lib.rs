//! Test harness: each test gets its own table (created from template.yaml in DynamoDB Local),
//! its own manual clock, and optionally an in-process local server to call over HTTP.
//!
//! The emulator endpoints come from the environment; `make test` starts the stack and sets
//! them. Run outside `make test`, the harness says so instead of failing obscurely.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::types::AttributeValue;
use billing::App;
use billing::clock::{Clock, ManualClock};
use billing::config::Config;
use billing::domain::OrganizationId;
use billing::store::AccountItem;
use billing::store::calls::CallCounter;
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
    /// Requests the App's DynamoDB client has sent, by operation.
    pub calls: CallCounter,
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
        local_server::provision::create_table(&dynamo, &table, &def).await.expect("create test table");

        let mut env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.insert(Config::TABLE.to_owned(), table);
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config is valid");
        let clock = ManualClock::starting_at(default_now());
        let calls = CallCounter::default();
        let counted = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&aws).interceptor(calls.clone()).build(),
        );
        let app = App::with_dynamo(config, &aws, counted, Arc::new(clock.clone()));
        Self { app, clock, dynamo, calls }
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
