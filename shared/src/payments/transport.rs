//! How Stripe requests travel: async-stripe's request builders (the API's shapes) sent on the
//! workspace's one HTTP/TLS connector ([`crate::sdk_http::pooled_client`]) by this
//! [`StripeClient`] implementation, instead of async-stripe's own client.
//!
//! Why not async-stripe's client: it parses every error answer into its typed `ApiErrors`,
//! whose fields embed a PaymentIntent, PaymentMethod, SetupIntent and PaymentSource with all
//! their nested types; that parser alone kept every function calling Stripe above 8 MB on
//! arm64 (README, "What every function stopped carrying"). Billing only needs an error's
//! status, `type`, `code` and message. This client also keeps connections alive between
//! invocations (async-stripe's pool keeps none), gives every call a time budget, gives every
//! write an idempotency key (the caller's, or one of its own), and so can retry what Stripe
//! says is worth retrying.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use serde_json::Value;
use stripe_client_core::{CustomizedStripeRequest, RequestBuilder, StripeClient, StripeClientErr, StripeMethod};

use crate::sdk_http::{HttpsConnector, chain, pooled_client};

/// Stripe's own base; configuration overrides it (stripe-mock locally).
const STRIPE_API: &str = "https://api.stripe.com";
/// How long an idle connection is kept for the next call: well under the idle timeouts of
/// load balancers and NAT gateways (350 s on AWS), so a pooled connection is rarely one the
/// other end has already dropped; an attempt on one that was is retried (`RetryPolicy`).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(55);

/// A failed Stripe call, with what billing tells apart: Stripe's own refusal (status and its
/// error object's fields) or no usable answer at all.
#[derive(Debug, thiserror::Error)]
pub enum StripeFailure {
    #[error("{0}")]
    Refused(Box<Refusal>),
    #[error("Stripe could not be reached: {0}")]
    Unreachable(String),
    #[error("Stripe did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("Stripe's answer could not be read: {0}")]
    Unreadable(String),
    #[error("the request could not be built: {0}")]
    InvalidRequest(String),
}

/// Stripe's answer to a request it did not carry out (`{"error": {...}}` with a 4xx or 5xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Stripe answered {status} ({}{}): {}", kind.as_deref().unwrap_or("no type"), code.as_deref().map(|c| format!(", {c}")).unwrap_or_default(), message.as_deref().unwrap_or("no message"))]
pub struct Refusal {
    pub status: u16,
    /// `card_error`, `invalid_request_error`, `api_error`, `idempotency_error`, …
    pub kind: Option<String>,
    /// `card_declined`, `resource_missing`, …
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

impl Refusal {
    fn read(status: u16, body: &[u8]) -> Self {
        let error = serde_json::from_slice::<Value>(body).map(|mut answer| answer["error"].take()).unwrap_or_default();
        let text = |name: &str| error[name].as_str().map(str::to_owned);
        Self {
            status,
            kind: text("type"),
            code: text("code"),
            decline_code: text("decline_code"),
            message: text("message"),
        }
    }
}

impl StripeFailure {
    /// The HTTP status of Stripe's refusal, if Stripe answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused(refusal) => Some(refusal.status),
            _ => None,
        }
    }
}

impl StripeClientErr for StripeFailure {
    fn deserialize_err(msg: impl std::fmt::Display) -> Self {
        Self::Unreadable(msg.to_string())
    }
}

/// How long one call may take in all, and how often it is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts at most, the first included.
    pub attempts: u32,
    /// For all attempts and waits together: a call never outlives the function calling it
    /// (10 s for the HTTP functions).
    pub budget: Duration,
    /// For one attempt: a connection that hangs (one a NAT dropped while the sandbox was
    /// frozen) is given up in time for another attempt on a fresh one.
    pub attempt_timeout: Duration,
    /// The wait before the second attempt; doubled before each further one.
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            budget: Duration::from_secs(8),
            attempt_timeout: Duration::from_secs(5),
            first_backoff: Duration::from_millis(250),
        }
    }
}

/// The Stripe API over the shared connector, authenticated with the secret key.
#[derive(Clone)]
pub struct StripeHttp {
    client: Client<HttpsConnector, Full<Bytes>>,
    base: String,
    authorization: HeaderValue,
    policy: RetryPolicy,
}

impl std::fmt::Debug for StripeHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeHttp").field("base", &self.base).field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl StripeHttp {
    pub fn new(secret_key: &str, api_base: Option<&str>, policy: RetryPolicy) -> Result<Self, StripeFailure> {
        let mut authorization = HeaderValue::try_from(format!("Bearer {secret_key}"))
            .map_err(|_| StripeFailure::InvalidRequest("the secret key is not a valid header value".into()))?;
        authorization.set_sensitive(true);
        let client = pooled_client(Some(Duration::from_secs(3)), POOL_IDLE_TIMEOUT);
        let base = api_base.unwrap_or(STRIPE_API).trim_end_matches('/').to_owned();
        Ok(Self { client, base, authorization, policy })
    }

    fn http_request(
        &self,
        request: &RequestBuilder,
        key: Option<&str>,
    ) -> Result<http::Request<Full<Bytes>>, StripeFailure> {
        let mut uri = format!("{}/v1{}", self.base, request.path);
        if let Some(query) = &request.query {
            uri.push('?');
            uri.push_str(query);
        }
        let mut builder = http::Request::builder()
            .method(method(request.method))
            .uri(uri)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(USER_AGENT, concat!("billing/", env!("CARGO_PKG_VERSION")))
            .header("stripe-version", stripe_shared::version::VERSION.as_str());
        if let Some(key) = key {
            builder = builder.header("idempotency-key", key);
        }
        let body = match &request.body {
            Some(body) => {
                builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(body.clone())
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).map_err(|e| StripeFailure::InvalidRequest(e.to_string()))
    }

    /// One attempt: Stripe's answer body, or what went wrong and whether trying again is safe.
    async fn attempt(&self, request: http::Request<Full<Bytes>>, limit: Duration) -> Result<Bytes, Attempt> {
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| Attempt::Unanswered(StripeFailure::Unreachable(chain_text(&err))))?;
            let status = response.status().as_u16();
            let should_retry =
                response.headers().get("stripe-should-retry").and_then(|v| v.to_str().ok()).map(|v| v == "true");
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| Attempt::Unanswered(StripeFailure::Unreachable(err.to_string())))?
                .to_bytes();
            if (200..300).contains(&status) {
                return Ok(body);
            }
            let retry = should_retry.unwrap_or(matches!(status, 409 | 424 | 429 | 500..=504));
            Err(Attempt::Answered { failure: StripeFailure::Refused(Box::new(Refusal::read(status, &body))), retry })
        };
        tokio::time::timeout(limit, exchange).await.unwrap_or(Err(Attempt::Unanswered(StripeFailure::TimedOut(limit))))
    }
}

/// What one failed attempt tells about the next. Every write carries an idempotency key, so
/// an attempt whose answer was lost may always be repeated.
enum Attempt {
    /// No answer: the connection failed, broke, or the time ran out.
    Unanswered(StripeFailure),
    /// Stripe answered; `retry` is its `Stripe-Should-Retry`, else whether the status is transient.
    Answered { failure: StripeFailure, retry: bool },
}

fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    chain(err).map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

fn method(method: StripeMethod) -> http::Method {
    match method {
        StripeMethod::Get => http::Method::GET,
        StripeMethod::Post => http::Method::POST,
        StripeMethod::Delete => http::Method::DELETE,
    }
}

impl StripeClient for StripeHttp {
    type Err = StripeFailure;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, StripeFailure> {
        let (request, overrides) = request.into_pieces();
        // A write without the caller's key gets one of its own, the same for every attempt, so
        // repeating an attempt whose answer was lost never carries the write out twice.
        let key = match overrides.request_strategy.as_ref().and_then(|strategy| strategy.get_key()) {
            Some(key) => Some(key.as_str().to_owned()),
            None if matches!(request.method, StripeMethod::Get) => None,
            None => Some(format!("billing-{}", uuid::Uuid::new_v4())),
        };
        let started = Instant::now();
        let mut backoff = self.policy.first_backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let limit = self.policy.budget.saturating_sub(started.elapsed()).min(self.policy.attempt_timeout);
            let outcome = self.attempt(self.http_request(&request, key.as_deref())?, limit).await;
            let (failure, again) = match outcome {
                Ok(body) => return Ok(body),
                Err(Attempt::Unanswered(failure)) => (failure, true),
                Err(Attempt::Answered { failure, retry }) => (failure, retry),
            };
            let out_of_time = started.elapsed() + backoff >= self.policy.budget;
            if !again || attempts >= self.policy.attempts || out_of_time {
                tracing::warn!(path = %request.path, attempts, error = %failure, "Stripe request failed");
                return Err(failure);
            }
            tracing::info!(path = %request.path, attempts, error = %failure, "Stripe request failed; trying again");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use stripe_client_core::IdempotencyKey;
    use stripe_client_core::RequestStrategy;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const DECLINED: &str = r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}"#;

    /// One scripted answer per connection (each closes it), in order; `None` never answers.
    /// Returns the port and the requests received, as text.
    async fn stripe(answers: Vec<Option<String>>) -> (u16, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = received.clone();
        tokio::spawn(async move {
            for answer in answers {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let request = read_request(&mut stream).await;
                seen.lock().expect("not poisoned").push(request);
                // A silent connection stays open, unanswered, while the next one is served.
                tokio::spawn(async move {
                    match answer {
                        Some(answer) => stream.write_all(answer.as_bytes()).await.expect("written"),
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        (port, received)
    }

    async fn read_request(stream: &mut tokio::net::TcpStream) -> String {
        let mut bytes = Vec::new();
        let mut buffer = [0_u8; 4096];
        loop {
            let read = stream.read(&mut buffer).await.expect("the request arrives");
            bytes.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length: "))
                    .map_or(0, |n| n.parse::<usize>().expect("a length"));
                if body.len() >= length || read == 0 {
                    return text;
                }
            }
        }
    }

    fn answer(status: &str, headers: &str, body: &str) -> Option<String> {
        Some(format!(
            "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        ))
    }

    fn client(port: u16) -> StripeHttp {
        let policy = RetryPolicy {
            attempts: 3,
            budget: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(5),
            first_backoff: Duration::from_millis(1),
        };
        StripeHttp::new("sk_test_123", Some(&format!("http://127.0.0.1:{port}/")), policy).expect("a valid key")
    }

    /// A customer creation through async-stripe's request path, answered as plain JSON text.
    async fn post(client: &StripeHttp, key: Option<&str>) -> Result<String, StripeFailure> {
        let mut request = RequestBuilder::new(StripeMethod::Post, "/customers")
            .form(&std::collections::BTreeMap::from([("email", "ada@example.com")]))
            .customize::<miniserde::json::Value>();
        if let Some(key) = key {
            request = request.request_strategy(RequestStrategy::Idempotent(IdempotencyKey::new(key).expect("a key")));
        }
        request.send(client).await.map(|answer| miniserde::json::to_string(&answer))
    }

    fn requests(received: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
        received.lock().expect("not poisoned").clone()
    }

    #[tokio::test]
    async fn a_request_carries_the_key_the_version_its_idempotency_key_and_its_form() {
        let (port, received) = stripe(vec![answer("200 OK", "", r#"{"id":"cus_1"}"#)]).await;
        let body = post(&client(port), Some("org-1-customer")).await.expect("answered");
        assert_eq!(body, r#"{"id":"cus_1"}"#);
        let request = requests(&received).remove(0);
        assert!(request.starts_with("POST /v1/customers HTTP/1.1\r\n"), "{request}");
        for header in [
            "authorization: Bearer sk_test_123",
            "idempotency-key: org-1-customer",
            &format!("stripe-version: {}", stripe_shared::version::VERSION.as_str()),
            "content-type: application/x-www-form-urlencoded",
        ] {
            assert!(request.contains(header), "{header} missing from {request}");
        }
        assert!(request.ends_with("\r\n\r\nemail=ada@example.com"), "{request}");
    }

    #[tokio::test]
    async fn a_card_decline_is_read_field_by_field_and_not_repeated() {
        let (port, received) = stripe(vec![answer("402 Payment Required", "", DECLINED)]).await;
        let failure = post(&client(port), Some("pay-1")).await.expect_err("declined");
        let StripeFailure::Refused(refusal) = &failure else { panic!("not a refusal: {failure}") };
        assert_eq!(
            **refusal,
            Refusal {
                status: 402,
                kind: Some("card_error".into()),
                code: Some("card_declined".into()),
                decline_code: Some("insufficient_funds".into()),
                message: Some("Your card has insufficient funds.".into()),
            }
        );
        assert_eq!(
            failure.to_string(),
            "Stripe answered 402 (card_error, card_declined): Your card has insufficient funds."
        );
        assert_eq!(requests(&received).len(), 1);
    }

    #[tokio::test]
    async fn transient_answers_are_tried_again_with_the_same_idempotency_key() {
        let (port, received) = stripe(vec![
            answer("500 Internal Server Error", "", r#"{"error":{"type":"api_error"}}"#),
            answer("429 Too Many Requests", "", r#"{"error":{"type":"rate_limit_error"}}"#),
            answer("200 OK", "", r#"{"id":"cus_1"}"#),
        ])
        .await;
        post(&client(port), Some("org-1-customer")).await.expect("the third attempt succeeds");
        let requests = requests(&received);
        assert_eq!(requests.len(), 3);
        assert!(requests.iter().all(|r| r.contains("idempotency-key: org-1-customer")));
    }

    #[tokio::test]
    async fn a_write_without_a_key_gets_one_of_its_own_for_every_attempt() {
        let (port, received) = stripe(vec![None, answer("200 OK", "", "{}")]).await;
        let mut client = client(port);
        client.policy.attempt_timeout = Duration::from_millis(200);
        post(&client, None).await.expect("the second attempt, on a new connection, is answered");
        let keys: Vec<String> = requests(&received)
            .iter()
            .map(|request| {
                let line = request.lines().find(|line| line.starts_with("idempotency-key: ")).expect("a key");
                line.trim_start_matches("idempotency-key: ").to_owned()
            })
            .collect();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], keys[1], "the retry repeats the first attempt's key");
        assert!(keys[0].starts_with("billing-"), "{}", keys[0]);
    }

    #[tokio::test]
    async fn a_read_carries_no_key_and_is_tried_again() {
        let (port, received) =
            stripe(vec![answer("503 Service Unavailable", "", "{}"), answer("200 OK", "", "{}")]).await;
        let read = RequestBuilder::new(StripeMethod::Get, "/balance").customize::<miniserde::json::Value>();
        read.send(&client(port)).await.expect("the second attempt is answered");
        let requests = requests(&received);
        assert_eq!(requests.len(), 2);
        assert!(requests.iter().all(|r| r.starts_with("GET /v1/balance ") && !r.contains("idempotency-key")));
    }

    #[tokio::test]
    async fn stripe_should_retry_overrides_the_status() {
        let (port, received) = stripe(vec![
            answer("409 Conflict", "stripe-should-retry: false\r\n", r#"{"error":{"type":"idempotency_error"}}"#),
            answer("200 OK", "", "{}"),
        ])
        .await;
        let failure = post(&client(port), Some("k")).await.expect_err("Stripe said not to retry");
        assert_eq!(failure.status(), Some(409));
        assert_eq!(requests(&received).len(), 1);

        let (port, received) = stripe(vec![
            answer("400 Bad Request", "stripe-should-retry: true\r\n", r#"{"error":{"type":"api_error"}}"#),
            answer("200 OK", "", "{}"),
        ])
        .await;
        post(&client(port), Some("k")).await.expect("Stripe said to retry");
        assert_eq!(requests(&received).len(), 2);
    }

    #[tokio::test]
    async fn a_silent_stripe_costs_at_most_the_budget() {
        let (port, received) = stripe(vec![None, None, None]).await;
        let mut client = client(port);
        client.policy.budget = Duration::from_millis(300);
        let started = Instant::now();
        let failure = post(&client, Some("k")).await.expect_err("no answer");
        assert!(matches!(failure, StripeFailure::TimedOut(_)), "{failure}");
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
        assert_eq!(requests(&received).len(), 1, "the budget was spent on the first attempt");
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_after_every_attempt() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
            listener.local_addr().expect("bound").port()
        };
        let failure = post(&client(port), None).await.expect_err("nothing listens");
        assert!(matches!(failure, StripeFailure::Unreachable(_)), "{failure}");
        assert_eq!(failure.status(), None);
    }
}
