//! A Stripe stand-in for invoice collection, served on a loopback port. Unlike stripe-mock it
//! keeps state: it honours idempotency keys as Stripe does (a repeated key answers the first
//! response, without a second effect), records every request, and can fail on demand — so a
//! test can prove that an outage midway still ends in exactly one Stripe invoice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// How the fake fails its next matching requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Answers 500 and does nothing.
    Down,
    /// Does the work (and remembers it under the key) but answers 500: a lost response.
    LostAnswer,
}

#[derive(Debug, Default)]
struct Inner {
    replies: HashMap<String, (u16, Value)>,
    requests: Vec<(String, Option<String>)>,
    invoices_created: Vec<String>,
    items: Vec<(String, i64)>,
    failures: Vec<(String, Failure, u32)>,
    decline_payments: bool,
    next: u64,
    /// Form bodies of the requests forwarded to stripe-mock, by path.
    forwarded: Vec<(String, String)>,
    /// Answers given instead of stripe-mock's for a path (stripe-mock's objects are canned).
    canned: HashMap<String, Value>,
    upstream: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeStripe {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

impl FakeStripe {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// The fake, with every route it does not serve itself forwarded to `upstream`
    /// (stripe-mock) and its request body recorded: what our requests asked of Stripe.
    pub async fn recording(upstream: &str) -> Self {
        Self::start_with(Some(upstream.to_owned())).await
    }

    /// Form fields of every forwarded request to `path`, in order.
    pub fn forwarded(&self, path: &str) -> Vec<HashMap<String, String>> {
        self.lock().forwarded.iter().filter(|(p, _)| p == path).map(|(_, body)| form(body)).collect()
    }

    /// Answers `body` to every request on `path` instead of forwarding it (still recorded):
    /// for objects whose fields a test must choose, such as a subscription's period.
    pub fn answer(&self, path: &str, body: Value) {
        self.lock().canned.insert(path.to_owned(), body);
    }

    async fn start_with(upstream: Option<String>) -> Self {
        let mut fake = Self::default();
        fake.lock().upstream = upstream;
        let app = Router::new()
            .route("/v1/invoices", post(create_invoice))
            .route("/v1/invoiceitems", post(create_item))
            .route("/v1/invoices/{id}/finalize", post(finalize))
            .route("/v1/invoices/{id}/pay", post(pay))
            .route("/v1/invoices/{id}/void", post(void))
            .route("/v1/invoices/{id}/mark_uncollectible", post(mark_uncollectible))
            .fallback(forward)
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        fake.url = format!("http://{}", listener.local_addr().expect("local addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// The next `times` requests whose path contains `path_part` fail as `failure` says.
    pub fn fail(&self, path_part: &str, failure: Failure, times: u32) {
        self.lock().failures.push((path_part.to_owned(), failure, times));
    }

    pub fn decline_payments(&self, decline: bool) {
        self.lock().decline_payments = decline;
    }

    /// Ids of the Stripe invoices created (each once, however often the key was repeated).
    pub fn invoices_created(&self) -> Vec<String> {
        self.lock().invoices_created.clone()
    }

    /// Invoice items created: (Stripe invoice, amount in cents).
    pub fn items(&self) -> Vec<(String, i64)> {
        self.lock().items.clone()
    }

    /// Every request received: path and idempotency key.
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `effect` once per idempotency key and answers what the first run answered.
    fn handle(&self, path: &str, headers: &HeaderMap, effect: impl FnOnce(&mut Inner) -> (u16, Value)) -> Response {
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut inner = self.lock();
        inner.requests.push((path.to_owned(), key.clone()));
        let failure =
            inner.failures.iter_mut().find(|(part, _, times)| *times > 0 && path.contains(part.as_str())).map(
                |(_, failure, times)| {
                    *times -= 1;
                    *failure
                },
            );
        if failure == Some(Failure::Down) {
            return server_error();
        }
        let (status, body) = match key.as_ref().and_then(|k| inner.replies.get(k)) {
            Some(reply) => reply.clone(),
            None => {
                let reply = effect(&mut inner);
                if let Some(k) = key {
                    inner.replies.insert(k, reply.clone());
                }
                reply
            }
        };
        if failure == Some(Failure::LostAnswer) {
            return server_error();
        }
        (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), axum::Json(body)).into_response()
    }
}

fn server_error() -> Response {
    let body = json!({ "error": { "type": "api_error", "message": "injected outage" } });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

fn form(body: &str) -> HashMap<String, String> {
    serde_urlencoded::from_str(body).unwrap_or_default()
}

fn invoice(id: &str, status: &str, amount_paid: i64) -> Value {
    json!({ "id": id, "object": "invoice", "status": status, "amount_paid": amount_paid,
            "hosted_invoice_url": format!("https://invoice.stripe.test/{id}"),
            "invoice_pdf": format!("https://invoice.stripe.test/{id}/pdf") })
}

async fn create_invoice(State(fake): State<FakeStripe>, headers: HeaderMap, _body: String) -> Response {
    fake.handle("/v1/invoices", &headers, |inner| {
        inner.next += 1;
        let id = format!("in_fake{}", inner.next);
        inner.invoices_created.push(id.clone());
        (200, invoice(&id, "draft", 0))
    })
}

async fn create_item(State(fake): State<FakeStripe>, headers: HeaderMap, body: String) -> Response {
    let fields = form(&body);
    fake.handle("/v1/invoiceitems", &headers, |inner| {
        inner.next += 1;
        let invoice = fields.get("invoice").cloned().unwrap_or_default();
        let amount = fields.get("amount").and_then(|a| a.parse().ok()).unwrap_or_default();
        inner.items.push((invoice.clone(), amount));
        (200, json!({ "id": format!("ii_fake{}", inner.next), "object": "invoiceitem", "invoice": invoice, "amount": amount }))
    })
}

async fn finalize(State(fake): State<FakeStripe>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1/invoices/{id}/finalize");
    fake.handle(&path, &headers, |_| (200, invoice(&id, "open", 0)))
}

async fn pay(State(fake): State<FakeStripe>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1/invoices/{id}/pay");
    fake.handle(&path, &headers, |inner| {
        if inner.decline_payments {
            let error = json!({ "error": { "type": "card_error", "code": "card_declined", "message": "Your card was declined." } });
            return (402, error);
        }
        let paid: i64 = inner.items.iter().filter(|(invoice, _)| *invoice == id).map(|(_, amount)| amount).sum();
        (200, invoice(&id, "paid", paid))
    })
}

async fn void(State(fake): State<FakeStripe>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1/invoices/{id}/void");
    fake.handle(&path, &headers, |_| (200, invoice(&id, "void", 0)))
}

async fn mark_uncollectible(State(fake): State<FakeStripe>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1/invoices/{id}/mark_uncollectible");
    fake.handle(&path, &headers, |_| (200, invoice(&id, "uncollectible", 0)))
}

/// Sends a request the fake does not serve to stripe-mock, recording its body.
async fn forward(State(fake): State<FakeStripe>, request: axum::extract::Request) -> Response {
    let Some(upstream) = fake.lock().upstream.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let path = parts.uri.path().to_owned();
    fake.lock().forwarded.push((path.clone(), String::from_utf8_lossy(&body).into_owned()));
    if let Some(canned) = fake.lock().canned.get(&path).cloned() {
        return (StatusCode::OK, axum::Json(canned)).into_response();
    }
    let url = format!("{upstream}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(&path));
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut out = reqwest::Client::new().request(method, url).body(body.to_vec());
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    match out.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, [("content-type", "application/json")], answer.bytes().await.unwrap_or_default()).into_response()
        }
        Err(_) => server_error(),
    }
}
