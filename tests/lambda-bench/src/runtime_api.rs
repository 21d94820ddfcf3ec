//! The Lambda Runtime API (`2018-06-01`), as much of it as a custom runtime uses: `next`,
//! `response`, `error` and `init/error`. One [`RuntimeApi`] serves one sandbox (one process)
//! on its own loopback port; [`RuntimeApi::shutdown`] drops the listener and any `next` still
//! waiting, so a killed process can never take the next sandbox's event.
//!
//! Every call is reported on a channel with the instant it arrived, and `next` also reports
//! the instant it hands an event over: the bench measures invocations between those two
//! points, as Lambda's own `duration` does (from delivering the event to receiving the answer).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

/// What the runtime API saw, in order.
#[derive(Debug)]
pub enum Report {
    /// The process asked for its next event (at init's end, then after every answer).
    Polled(Instant),
    /// An event was handed to the process.
    Delivered { request_id: String, at: Instant },
    /// `POST /invocation/{id}/response`.
    Answered { request_id: String, at: Instant, body: Bytes },
    /// `POST /invocation/{id}/error`.
    Failed { request_id: String, body: Bytes },
    /// `POST /init/error`.
    InitFailed { body: Bytes },
}

/// One event for the process.
pub struct Invocation {
    pub request_id: String,
    pub payload: Vec<u8>,
}

struct Shared {
    function_arn: String,
    events: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    reports: mpsc::UnboundedSender<Report>,
}

/// A running Runtime API for one sandbox.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub events: mpsc::UnboundedSender<Invocation>,
    pub reports: mpsc::UnboundedReceiver<Report>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function_name: &str) -> anyhow::Result<Self> {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (reports_tx, reports) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{function_name}"),
            events: Mutex::new(events_rx),
            reports: reports_tx,
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                eprintln!("lambda-bench: runtime API stopped: {err}");
            }
        });
        Ok(Self { addr, events, reports, server })
    }

    /// Stops serving; connections and waiting `next` calls are dropped.
    pub fn shutdown(self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    if shared.reports.send(Report::Polled(Instant::now())).is_err() {
        // The bench no longer listens: this sandbox is being torn down.
        return StatusCode::GONE.into_response();
    }
    // One `next` at a time, as in Lambda: a sandbox runs one invocation at a time.
    let invocation = shared.events.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let deadline = SystemTime::now() + Duration::from_secs(60);
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", invocation.request_id.clone()),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", shared.function_arn.clone()),
        ("lambda-runtime-trace-id", format!("Root=1-00000000-{};Sampled=0", invocation.request_id)),
        ("content-type", "application/json".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    if shared.reports.send(Report::Delivered { request_id: invocation.request_id, at: Instant::now() }).is_err() {
        return StatusCode::GONE.into_response();
    }
    (StatusCode::OK, headers, invocation.payload).into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(request_id): Path<String>, body: Bytes) -> StatusCode {
    accepted(shared.reports.send(Report::Answered { request_id, at: Instant::now(), body }).is_ok())
}

async fn error(State(shared): State<Arc<Shared>>, Path(request_id): Path<String>, body: Bytes) -> StatusCode {
    accepted(shared.reports.send(Report::Failed { request_id, body }).is_ok())
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    accepted(shared.reports.send(Report::InitFailed { body }).is_ok())
}

/// Lambda's answer to a report: accepted, or gone once the bench stopped listening (the
/// sandbox is being torn down, and the report would be lost).
fn accepted(heard: bool) -> StatusCode {
    if heard { StatusCode::ACCEPTED } else { StatusCode::GONE }
}
