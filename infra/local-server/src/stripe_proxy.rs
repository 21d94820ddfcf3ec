//! A recording proxy in front of stripe-mock, so that a Checkout opened under `make dev` can be
//! completed locally.
//!
//! stripe-mock answers every request with a canned object and keeps no state: the `url` of a
//! Checkout session it returns leads nowhere, and a subscription fetched back has nothing to
//! do with the one a checkout bought. The App's `STRIPE_API_BASE` points here instead; every
//! request is forwarded to stripe-mock, and a few are recorded or answered from what was
//! recorded in this server run (in memory: a dev tool, forgotten on restart):
//!
//! - `POST /v1/checkout/sessions`: the form (mode, customer, metadata, the line item, trial,
//!   return URLs) is kept under the session id, and the session's `url` points to the local
//!   stand-in page (`<BILLING_URL>/_local/checkout/<id>`, see [`crate::checkout`]);
//! - `POST /v1/billing_portal/sessions`: `url` points to `<BILLING_URL>/_local/portal`;
//! - subscriptions, setup intents and payment methods that a completed local checkout made
//!   (see [`crate::checkout_events`]) are answered as recorded, and updated by the requests
//!   billing makes on them (cancel, reactivate, change of price, attach, detach, default);
//! - a `POST` repeated with the same `Idempotency-Key` gets the first answer, as from Stripe.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// How a stand-in checkout page completed a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Paid at once (card).
    Pay,
    /// A delayed method: completed unpaid, then the payment arrives.
    PayLater,
    /// A delayed method whose payment then fails.
    Fail,
}

impl Outcome {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pay" => Some(Self::Pay),
            "pay-later" => Some(Self::PayLater),
            "fail" => Some(Self::Fail),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::PayLater => "pay-later",
            Self::Fail => "fail",
        }
    }
}

/// What billing asked Stripe's Checkout for, as recorded from the form it sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSession {
    pub id: String,
    /// `payment`, `subscription` or `setup`.
    pub mode: String,
    pub customer: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// `subscription_data[metadata]`: what Stripe copies onto the subscription.
    pub subscription_metadata: BTreeMap<String, String>,
    /// `line_items[0][price]`: a configured price.
    pub price: Option<String>,
    /// `line_items[0][price_data][unit_amount]`: an ad-hoc amount in cents.
    pub unit_amount: Option<i64>,
    /// `line_items[0][price_data][product_data][name]`.
    pub product_name: Option<String>,
    /// `line_items[0][price_data][product]`: an inline price of an existing product.
    pub product: Option<String>,
    /// `line_items[0][price_data][recurring][interval]`.
    pub interval: Option<String>,
    pub currency: String,
    pub trial_days: Option<u32>,
    pub promotion_code: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    /// Unix seconds (stripe-mock's `created` is canned).
    pub created: i64,
}

impl RecordedSession {
    fn from_form(id: &str, form: &BTreeMap<String, String>, created: i64) -> Self {
        let get = |key: &str| form.get(key).cloned();
        let map = |prefix: &str| {
            form.iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix(prefix)
                        .and_then(|rest| rest.strip_suffix(']'))
                        .map(|name| (name.to_owned(), v.clone()))
                })
                .collect::<BTreeMap<_, _>>()
        };
        let line = "line_items[0]";
        Self {
            id: id.to_owned(),
            mode: get("mode").unwrap_or_else(|| "payment".to_owned()),
            customer: get("customer"),
            metadata: map("metadata["),
            subscription_metadata: map("subscription_data[metadata]["),
            price: get(&format!("{line}[price]")),
            unit_amount: get(&format!("{line}[price_data][unit_amount]")).and_then(|a| a.parse().ok()),
            product_name: get(&format!("{line}[price_data][product_data][name]")),
            product: get(&format!("{line}[price_data][product]")),
            interval: get(&format!("{line}[price_data][recurring][interval]")),
            currency: get(&format!("{line}[price_data][currency]")).unwrap_or_else(|| "usd".to_owned()),
            trial_days: get("subscription_data[trial_period_days]").and_then(|d| d.parse().ok()),
            promotion_code: get("discounts[0][promotion_code]"),
            success_url: get("success_url").unwrap_or_default(),
            cancel_url: get("cancel_url").unwrap_or_default(),
            created,
        }
    }

    /// The session id without Stripe's prefix, to derive the ids of what it makes.
    pub fn suffix(&self) -> &str {
        self.id.rsplit('_').next().unwrap_or(&self.id)
    }
}

/// What a completed session made at Stripe, recorded so the same completion is always
/// answered the same (a double click sends the same events, with the same ids).
#[derive(Debug, Clone)]
pub struct Completion {
    pub outcome: Outcome,
    /// The events, in the order Stripe sends them.
    pub events: Vec<Value>,
}

/// Objects a completion creates at Stripe, and its events.
#[derive(Debug, Clone, Default)]
pub struct Made {
    pub events: Vec<Value>,
    pub subscription: Option<Value>,
    pub setup_intent: Option<Value>,
    pub payment_method: Option<Value>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompleteError {
    #[error("no Checkout session {0} was opened in this server run")]
    UnknownSession(String),
    #[error("this session was already completed another way ({0})")]
    AlreadyCompleted(&'static str),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Default)]
struct Recorded {
    sessions: HashMap<String, RecordedSession>,
    completions: HashMap<String, Completion>,
    subscriptions: HashMap<String, Value>,
    setup_intents: HashMap<String, Value>,
    payment_methods: HashMap<String, Value>,
    /// Customers created through the proxy, with their default payment method.
    customers: HashMap<String, Option<String>>,
    /// First answers by (path, idempotency key).
    replies: HashMap<(String, String), (StatusCode, Bytes)>,
}

/// The proxy and what it recorded; cloning shares the state.
#[derive(Debug, Clone)]
pub struct StripeProxy {
    state: Arc<Mutex<Recorded>>,
    upstream: String,
    billing_url: String,
    http: reqwest::Client,
    /// Where the proxy listens (`STRIPE_API_BASE` for the App).
    pub url: String,
}

impl StripeProxy {
    /// Listens on a free loopback port, forwarding to `upstream` (stripe-mock); pages for
    /// Checkout and the portal are under `billing_url`.
    pub async fn start(upstream: &str, billing_url: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the Stripe proxy")?;
        let proxy = Self {
            state: Arc::default(),
            upstream: upstream.trim_end_matches('/').to_owned(),
            billing_url: billing_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            url: format!("http://{}", listener.local_addr()?),
        };
        let router = Router::new().fallback(handle).with_state(proxy.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "the local Stripe proxy stopped");
            }
        });
        Ok(proxy)
    }

    fn lock(&self) -> MutexGuard<'_, Recorded> {
        // A panic elsewhere while holding the lock leaves the maps themselves intact.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn session(&self, id: &str) -> Option<RecordedSession> {
        self.lock().sessions.get(id).cloned()
    }

    /// How the session was completed, if it was.
    pub fn completion(&self, id: &str) -> Option<Completion> {
        self.lock().completions.get(id).cloned()
    }

    /// Completes the session once: the first completion builds (with `make`) and records what
    /// it made; a repeat of the same outcome gets the same events, another outcome is refused.
    pub fn complete(
        &self,
        id: &str,
        outcome: Outcome,
        make: impl FnOnce(&RecordedSession) -> Result<Made, String>,
    ) -> Result<Completion, CompleteError> {
        let mut state = self.lock();
        if let Some(done) = state.completions.get(id) {
            return if done.outcome == outcome {
                Ok(done.clone())
            } else {
                Err(CompleteError::AlreadyCompleted(done.outcome.as_str()))
            };
        }
        let session = state.sessions.get(id).ok_or_else(|| CompleteError::UnknownSession(id.to_owned()))?;
        let made = make(session).map_err(CompleteError::Invalid)?;
        if let Some(sub) = made.subscription {
            state.subscriptions.insert(sub["id"].as_str().unwrap_or_default().to_owned(), sub);
        }
        if let Some(intent) = made.setup_intent {
            state.setup_intents.insert(intent["id"].as_str().unwrap_or_default().to_owned(), intent);
        }
        if let Some(method) = made.payment_method {
            state.payment_methods.insert(method["id"].as_str().unwrap_or_default().to_owned(), method);
        }
        let completion = Completion { outcome, events: made.events };
        state.completions.insert(id.to_owned(), completion.clone());
        Ok(completion)
    }

    /// Records a subscription made outside a local checkout (the demo's), so requests on it
    /// are answered as for one.
    pub fn remember_subscription(&self, sub: Value) {
        let id = sub["id"].as_str().unwrap_or_default().to_owned();
        self.lock().subscriptions.insert(id, sub);
    }

    /// The subscription as recorded (what `GET /v1/subscriptions/{id}` answers).
    pub fn subscription(&self, id: &str) -> Option<Value> {
        self.lock().subscriptions.get(id).cloned()
    }

    /// Answers from what was recorded, or `None` to forward the request.
    fn answer_locally(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        form: &BTreeMap<String, String>,
    ) -> Option<Value> {
        let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
        let mut state = self.lock();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["subscriptions", id]) => state.subscriptions.get(*id).cloned(),
            ("POST", ["subscriptions", id]) => {
                let sub = state.subscriptions.get_mut(*id)?;
                update_subscription(sub, form);
                Some(sub.clone())
            }
            ("DELETE", ["subscriptions", id]) => {
                let sub = state.subscriptions.get_mut(*id)?;
                let now = chrono::Utc::now().timestamp();
                sub["status"] = json!("canceled");
                sub["canceled_at"] = json!(now);
                sub["ended_at"] = json!(now);
                Some(sub.clone())
            }
            ("GET", ["setup_intents", id]) => state.setup_intents.get(*id).cloned(),
            ("GET", ["payment_methods", id]) => state.payment_methods.get(*id).cloned(),
            ("GET", ["payment_methods"]) => {
                let query: BTreeMap<String, String> = serde_urlencoded::from_str(query).unwrap_or_default();
                let customer = query.get("customer")?;
                // Only customers made here: their methods are all known.
                state.customers.contains_key(customer).then(|| {
                    let mut data: Vec<Value> = state
                        .payment_methods
                        .values()
                        .filter(|pm| pm["customer"] == json!(customer))
                        .cloned()
                        .collect();
                    data.sort_by_key(|pm| std::cmp::Reverse(pm["created"].as_i64()));
                    json!({ "object": "list", "url": "/v1/payment_methods", "has_more": false, "data": data })
                })
            }
            ("POST", ["payment_methods", id, "detach"]) => {
                let pm = state.payment_methods.get_mut(*id)?;
                pm["customer"] = Value::Null;
                Some(pm.clone())
            }
            _ => None,
        }
    }

    /// Records what a forwarded request did, and rewrites what must lead back here.
    fn record(&self, method: &Method, path: &str, form: &BTreeMap<String, String>, answer: &mut Value) {
        let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
        let mut state = self.lock();
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["checkout", "sessions"]) => {
                let Some(id) = answer["id"].as_str().map(str::to_owned) else { return };
                let session = RecordedSession::from_form(&id, form, chrono::Utc::now().timestamp());
                answer["url"] = json!(format!("{}/_local/checkout/{id}", self.billing_url));
                answer["mode"] = json!(session.mode);
                answer["metadata"] = json!(session.metadata);
                answer["success_url"] = json!(session.success_url);
                answer["cancel_url"] = json!(session.cancel_url);
                state.sessions.insert(id, session);
            }
            ("POST", ["billing_portal", "sessions"]) => {
                let back = form.get("return_url").cloned().unwrap_or_default();
                let query = serde_urlencoded::to_string([("return_url", back)]).unwrap_or_default();
                answer["url"] = json!(format!("{}/_local/portal?{query}", self.billing_url));
            }
            ("POST", ["customers"]) => {
                if let Some(id) = answer["id"].as_str() {
                    state.customers.insert(id.to_owned(), None);
                }
            }
            ("POST", ["customers", id]) => {
                if let Some(default) = form.get("invoice_settings[default_payment_method]") {
                    state.customers.insert((*id).to_owned(), Some(default.clone()).filter(|d| !d.is_empty()));
                }
                patch_default(&state, id, answer);
            }
            ("GET", ["customers", id]) => patch_default(&state, id, answer),
            ("POST", ["payment_methods", id, "attach"]) => {
                // A test token (`pm_card_visa`) makes a new payment method each time it is
                // attached, as in Stripe's test mode, so two customers never share one card
                // (a retried attach gets the first answer back through its idempotency key).
                let id = match id.strip_prefix("pm_card_") {
                    Some(_) => format!("pm_local_{}", &uuid::Uuid::new_v4().simple().to_string()[..14]),
                    None => (*id).to_owned(),
                };
                // stripe-mock's object under the id and customer asked for.
                let mut pm = state.payment_methods.get(&id).cloned().unwrap_or_else(|| answer.clone());
                pm["id"] = json!(id);
                pm["customer"] = form.get("customer").map_or(Value::Null, |c| json!(c));
                if pm["created"].as_i64().is_none_or(|c| c < 1_600_000_000) {
                    pm["created"] = json!(chrono::Utc::now().timestamp());
                }
                *answer = pm.clone();
                state.payment_methods.insert(id, pm);
            }
            _ => {}
        }
    }
}

/// The default payment method recorded for a customer made here.
fn patch_default(state: &Recorded, customer: &str, answer: &mut Value) {
    if let Some(default) = state.customers.get(customer) {
        answer["invoice_settings"]["default_payment_method"] = default.as_ref().map_or(Value::Null, |d| json!(d));
    }
}

/// Applies the fields billing changes on a subscription (see `payments::client`).
fn update_subscription(sub: &mut Value, form: &BTreeMap<String, String>) {
    if let Some(cancel) = form.get("cancel_at_period_end") {
        let cancel = cancel == "true";
        sub["cancel_at_period_end"] = json!(cancel);
        sub["cancel_at"] = if cancel { sub["current_period_end"].clone() } else { Value::Null };
    }
    if let Some(price) = form.get("items[0][price]") {
        sub["items"]["data"][0]["price"]["id"] = json!(price);
    }
    for (key, value) in form {
        if let Some(name) = key.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')) {
            sub["metadata"][name] = json!(value);
        }
    }
}

async fn handle(State(proxy): State<StripeProxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(body) => body,
        Err(err) => return stripe_error(StatusCode::PAYLOAD_TOO_LARGE, &format!("request body: {err}")),
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let form: BTreeMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let replay_key = (parts.method == Method::POST)
        .then(|| parts.headers.get("idempotency-key").and_then(|v| v.to_str().ok()))
        .flatten()
        .map(|key| (path.clone(), key.to_owned()));
    if let Some(key) = &replay_key
        && let Some((status, body)) = proxy.lock().replies.get(key).cloned()
    {
        return json_response(status, body);
    }
    if let Some(answer) = proxy.answer_locally(&parts.method, &path, &query, &form) {
        return json_response(StatusCode::OK, Bytes::from(answer.to_string()));
    }
    let (status, body) = match forward(&proxy, &parts.method, &parts.uri, &parts.headers, body).await {
        Ok(answer) => answer,
        Err(err) => {
            tracing::warn!(error = format!("{err:#}"), path, "stripe-mock did not answer the local proxy");
            return stripe_error(StatusCode::BAD_GATEWAY, &format!("stripe-mock did not answer: {err:#}"));
        }
    };
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(mut answer) if status.is_success() => {
            proxy.record(&parts.method, &path, &form, &mut answer);
            Bytes::from(answer.to_string())
        }
        _ => body,
    };
    if let Some(key) = replay_key
        && status.is_success()
    {
        proxy.lock().replies.insert(key, (status, body.clone()));
    }
    json_response(status, body)
}

async fn forward(
    proxy: &StripeProxy,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes())?;
    let mut request = proxy.http.request(method, format!("{}{path}", proxy.upstream)).body(body);
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = request.send().await?;
    let status = StatusCode::from_u16(answer.status().as_u16())?;
    Ok((status, answer.bytes().await?))
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// An error shaped as Stripe shapes them, so billing's client reads it as from Stripe.
fn stripe_error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "error": { "type": "api_error", "message": message } });
    json_response(status, Bytes::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_session_form_is_read_as_billing_sends_it() {
        let session = RecordedSession::from_form(
            "cs_test_abc",
            &form(&[
                ("mode", "subscription"),
                ("customer", "cus_1"),
                ("metadata[organization_id]", "demo"),
                ("metadata[purpose]", "subscription"),
                ("subscription_data[metadata][tier]", "pro"),
                ("subscription_data[trial_period_days]", "14"),
                ("line_items[0][price]", "price_local_pro"),
                ("line_items[0][quantity]", "1"),
                ("success_url", "http://127.0.0.1:8787/billing/success?session_id={CHECKOUT_SESSION_ID}"),
                ("cancel_url", "http://127.0.0.1:8787/billing/cancel"),
            ]),
            1_700_000_000,
        );
        assert_eq!(session.mode, "subscription");
        assert_eq!(session.customer.as_deref(), Some("cus_1"));
        assert_eq!(session.metadata["organization_id"], "demo");
        assert_eq!(session.subscription_metadata["tier"], "pro");
        assert_eq!(session.trial_days, Some(14));
        assert_eq!(session.price.as_deref(), Some("price_local_pro"));
        assert_eq!(session.unit_amount, None);
        assert_eq!(session.suffix(), "abc");
    }

    #[test]
    fn subscription_updates_set_cancellation_price_and_metadata() {
        let mut sub =
            json!({ "id": "sub_1", "current_period_end": 99, "items": { "data": [{ "price": { "id": "a" } }] } });
        update_subscription(&mut sub, &form(&[("cancel_at_period_end", "true"), ("metadata[x]", "1")]));
        assert_eq!((sub["cancel_at_period_end"].clone(), sub["cancel_at"].clone()), (json!(true), json!(99)));
        update_subscription(&mut sub, &form(&[("cancel_at_period_end", "false"), ("items[0][price]", "b")]));
        assert_eq!(sub["cancel_at"], Value::Null);
        assert_eq!(sub["items"]["data"][0]["price"]["id"], "b");
        assert_eq!(sub["metadata"]["x"], "1");
    }
}
