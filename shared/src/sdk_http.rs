//! The AWS SDK's HTTP client, on the workspace's one stack: hyper 1's pooled client over
//! hyper-rustls (rustls with aws-lc-rs), HTTP/1.1, trusting the Mozilla roots compiled in as
//! ready-made trust anchors (webpki-roots), the same connector the Stripe and CloudWatch
//! clients use.
//!
//! Why not the SDK's own client: it links an HTTP/2 implementation none of our services needs
//! (DynamoDB, SQS, SNS, EventBridge, Secrets Manager and KMS all answer on HTTP/1.1), and it
//! takes roots other than the system's only as PEM, parsed again at every cold start. Both were
//! measurable in a function's size and init (README, "Cold starts"). What the SDK asks of a
//! client is small and kept here: one connection pool per timeout setting, the connect and read
//! timeouts applied, and failures classified so its retry policy knows which are transient.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// HTTPS, or plain HTTP for the local emulators, over HTTP/1.1 with the compiled-in roots.
pub type HttpsConnector = hyper_rustls::HttpsConnector<TcpConnector>;

/// How long an idle connection stays in the pool (the SDK's own default).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

pub fn https_connector(connect_timeout: Option<Duration>) -> HttpsConnector {
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().wrap_connector(tcp)
}

/// A pooled client on [`https_connector`], shared by the SDK's pools and the Stripe client;
/// a connection idle for `idle` is dropped rather than reused.
pub fn pooled_client<B>(connect_timeout: Option<Duration>, idle: Duration) -> Client<HttpsConnector, B>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(idle)
        .build(https_connector(connect_timeout))
}

/// The client every SDK configuration of the process gets ([`crate::app::load_aws_config`]).
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(SdkHttpClient::default())
}

type Timeouts = (Option<Duration>, Option<Duration>);

/// Hands the SDK one pooled connector per distinct (connect, read) timeout pair; it asks on
/// every attempt, so the pools must be kept here.
#[derive(Debug, Default)]
struct SdkHttpClient {
    pools: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for SdkHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        self.pool((settings.connect_timeout(), settings.read_timeout()))
    }
}

impl SdkHttpClient {
    fn pool(&self, timeouts: Timeouts) -> SharedHttpConnector {
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, pool)) = pools.iter().find(|(key, _)| *key == timeouts) {
            return pool.clone();
        }
        let pool = SharedHttpConnector::new(Pool::new(timeouts.0, timeouts.1));
        pools.push((timeouts, pool.clone()));
        pool
    }
}

#[derive(Debug)]
struct Pool {
    client: Client<HttpsConnector, SdkBody>,
    /// From sending the request to the response's head, as the SDK defines it.
    read_timeout: Option<Duration>,
}

impl Pool {
    fn new(connect_timeout: Option<Duration>, read_timeout: Option<Duration>) -> Self {
        Self { client: pooled_client(connect_timeout, POOL_IDLE_TIMEOUT), read_timeout }
    }
}

impl HttpConnector for Pool {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        let response = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, response)
                    .await
                    .map_err(|elapsed| ConnectorError::timeout(elapsed.into()))?,
                None => response.await,
            }
            .map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|err| ConnectorError::other(err.into(), None))
        })
    }
}

/// Connection failures and broken connections are transient (the SDK retries them); a request
/// the client refused to send is the caller's; anything else is reported as it is.
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let connector_error = kind_of(&err);
    connector_error(err.into())
}

type MakeConnectorError = fn(aws_smithy_runtime_api::box_error::BoxError) -> ConnectorError;

fn kind_of(err: &hyper_util::client::legacy::Error) -> MakeConnectorError {
    let timed_out = chain(err).any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || cause.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout)
    });
    if timed_out {
        return ConnectorError::timeout;
    }
    if err.is_connect() {
        return ConnectorError::io;
    }
    match chain(err).find_map(|cause| cause.downcast_ref::<hyper::Error>()) {
        Some(hyper) if hyper.is_user() => ConnectorError::user,
        Some(hyper) if hyper.is_incomplete_message() => {
            |err| ConnectorError::other(err, Some(ErrorKind::TransientError))
        }
        Some(hyper) if hyper.is_closed() || hyper.is_canceled() => ConnectorError::io,
        _ if chain(err).any(|cause| cause.is::<std::io::Error>()) => ConnectorError::io,
        _ => |err| ConnectorError::other(err, None),
    }
}

/// An error and its causes, outermost first.
pub(crate) fn chain<'e>(
    err: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |cause| cause.source())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn request(port: u16) -> HttpRequest {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://127.0.0.1:{port}/"))
            .body(SdkBody::from("{}"))
            .expect("a valid request");
        HttpRequest::try_from(request).expect("an HTTP 1.x request converts")
    }

    /// A server that accepts one connection and then does `answer` with it.
    async fn server<F, Fut>(answer: F) -> u16
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        tokio::spawn(async move {
            if let Ok((stream, _)) = listener.accept().await {
                answer(stream).await;
            }
        });
        port
    }

    async fn read_request(stream: &mut tokio::net::TcpStream) {
        let mut buffer = [0_u8; 4096];
        let read = stream.read(&mut buffer).await.expect("the request arrives");
        assert!(buffer[..read].starts_with(b"POST / HTTP/1.1"), "{}", String::from_utf8_lossy(&buffer[..read]));
    }

    #[tokio::test]
    async fn a_response_comes_back_with_its_status_and_body() {
        let port = server(|mut stream| async move {
            read_request(&mut stream).await;
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";
            stream.write_all(answer).await.expect("written");
        })
        .await;
        let response = Pool::new(None, None).call(request(port)).await.expect("answered");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.body().bytes(), None, "the body streams");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.expect("read").to_bytes();
        assert_eq!(&body[..], b"{\"ok\":true}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient_io() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("bound").port()
        };
        let err = Pool::new(None, None).call(request(port)).await.expect_err("nobody listens");
        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_hits_the_read_timeout() {
        let port = server(|mut stream| async move {
            read_request(&mut stream).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let err = Pool::new(None, Some(Duration::from_millis(100))).call(request(port)).await.expect_err("timed out");
        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_retryable() {
        let port = server(|mut stream| async move {
            read_request(&mut stream).await;
            stream.shutdown().await.expect("closed");
        })
        .await;
        let err = Pool::new(None, None).call(request(port)).await.expect_err("no answer");
        assert!(err.is_io() || err.as_other() == Some(ErrorKind::TransientError), "{err:?}");
    }

    #[tokio::test]
    async fn one_pool_is_kept_per_timeout_setting() {
        let client = SdkHttpClient::default();
        let short = (Some(Duration::from_secs(1)), Some(Duration::from_secs(1)));
        let long = (Some(Duration::from_secs(1)), Some(Duration::from_secs(30)));
        for timeouts in [short, short, long, short] {
            assert!(format!("{:?}", client.pool(timeouts)).contains("SharedHttpConnector"));
        }
        let pools = client.pools.lock().expect("unpoisoned");
        assert_eq!(pools.iter().map(|(timeouts, _)| *timeouts).collect::<Vec<_>>(), vec![short, long]);
    }
}
