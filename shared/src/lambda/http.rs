//! HTTP functions behind API Gateway (payload format 2.0).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, IntoResponse, Request, RequestExt, Response, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::auth::Caller;
use crate::ids::OrganizationId;
use crate::{ApiError, App};

pub type HttpResult = Result<Response<Body>, ApiError>;

/// Anything that can serve a request: in practice an `async fn(App, Request) -> HttpResult`.
pub trait HttpHandler: Send + Sync + 'static {
    fn call(&self, app: App, req: Request) -> BoxFuture<'static, HttpResult>;
}

impl<F, Fut> HttpHandler for F
where
    F: Fn(App, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResult> + Send + 'static,
{
    fn call(&self, app: App, req: Request) -> BoxFuture<'static, HttpResult> {
        Box::pin(self(app, req))
    }
}

/// Serves HTTP events until the Lambda environment shuts down.
pub async fn run_http(handler: impl HttpHandler) -> Result<(), lambda_http::Error> {
    let app = super::init().await?;
    let handler = Arc::new(handler);
    // Boxed: see run_schedule.
    Box::pin(lambda_http::run(service_fn(move |req: Request| {
        let (app, handler) = (app.clone(), handler.clone());
        async move {
            let response = super::invocation(handle_http(handler.as_ref(), app, req)).await;
            Ok::<_, Infallible>(AsBuilt(response))
        }
    })))
    .await
}

/// A response handed to API Gateway as it was built. lambda_http's own `IntoResponse` for
/// `Response<B>` collects the body again and decodes it by the charset of its content type,
/// which links every encoding of encoding_rs (about 180 KB, read at each cold start); ours are
/// UTF-8 text already ([`json_response`], [`ApiError::into_response`]).
struct AsBuilt(Response<Body>);

impl IntoResponse for AsBuilt {
    fn into_response(self) -> std::pin::Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(std::future::ready(self.0))
    }
}

/// Runs one request through a handler inside a span carrying the request id; errors become
/// `{"detail","code"}` responses here and nowhere else.
pub async fn handle_http(handler: &dyn HttpHandler, app: App, req: Request) -> Response<Body> {
    let request_id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    let span = tracing::info_span!(
        "http",
        request_id = request_id.as_deref().unwrap_or("-"),
        method = %req.method(),
        path = req.raw_http_path(),
        org = tracing::field::Empty,
    );
    async move {
        let response = handler.call(app, req).await.unwrap_or_else(ApiError::into_response);
        tracing::info!(status = response.status().as_u16(), "responded");
        response
    }
    .instrument(span)
    .await
}

/// The authenticated caller and the `{organization_id}` they may act on.
///
/// Order matters: no identity is 401, a malformed id is 400, someone else's organization is
/// 403. The organization is recorded on the request span for every later log line.
pub fn authorize_org(req: &Request) -> Result<(Caller, OrganizationId), ApiError> {
    let caller = Caller::from_request(req)?;
    let org = path_org(req)?;
    caller.require_org(&org)?;
    tracing::Span::current().record("org", org.as_str());
    Ok((caller, org))
}

/// Like [`authorize_org`], for routes that move money or change the plan, the budget or
/// payment methods: the caller must also be the organization's owner or billing admin.
pub fn authorize_billing(app: &crate::App, req: &Request) -> Result<(Caller, OrganizationId), ApiError> {
    let caller = Caller::from_request(req)?;
    let org = path_org(req)?;
    caller.require_billing_role(&org, &app.config.org_role_claim)?;
    tracing::Span::current().record("org", org.as_str());
    Ok((caller, org))
}

/// A platform operator (`billing-admin` group) acting on the `{organization_id}` of the path.
pub fn authorize_admin(req: &Request) -> Result<(Caller, OrganizationId), ApiError> {
    let caller = Caller::from_request(req)?;
    caller.require_admin()?;
    let org = path_org(req)?;
    tracing::Span::current().record("org", org.as_str());
    Ok((caller, org))
}

pub fn path_org(req: &Request) -> Result<OrganizationId, ApiError> {
    let raw = path_param(req, "organization_id")?;
    OrganizationId::parse(&raw).map_err(|e| ApiError::bad_request("invalid_organization_id", e.to_string()))
}

/// The `{flag}` of the path, validated.
pub fn path_flag(req: &Request) -> Result<crate::flags::rules::FlagName, ApiError> {
    let raw = path_param(req, "flag")?;
    crate::flags::rules::FlagName::parse(&raw).map_err(|e| ApiError::bad_request("invalid_flag", e.to_string()))
}

pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters_ref().and_then(|params| params.first(name)).map(str::to_owned).ok_or_else(|| {
        ApiError::bad_request("missing_path_parameter", format!("The path parameter {name} is required."))
    })
}

/// Parses a JSON body strictly: unknown fields, wrong types and missing fields are 400s that
/// say which field is wrong.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("missing_body", "A JSON request body is required."));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("The request body is invalid: {e}.")))
}

/// Like [`json_body`], but an empty body means every field takes its default.
pub fn json_body_or_empty<T: DeserializeOwned + Default>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { json_body(req) }
}

/// The client's `Idempotency-Key` header (a retried POST is then one request at Stripe), or
/// a fresh key when there is none.
pub fn idempotency_key(req: &Request) -> Result<String, ApiError> {
    match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(uuid::Uuid::new_v4().to_string()),
        Some(Ok(key)) if (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(key.to_owned())
        }
        Some(_) => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 200 visible ASCII characters.",
        )),
    }
}

/// How long the first request with a key may run before a repeat may take over (it died).
const IDEMPOTENT_RUN_SECONDS: i64 = 60;

/// Runs `work` (a POST that moves money or changes the plan) so that a repeat with the same
/// `Idempotency-Key` gets the first answer again instead of acting twice. The key may only be
/// reused for the same request (method, path and body): another one is `422
/// idempotency_key_reused`; while the first is still running a repeat is `409
/// idempotency_key_in_use`. A 5xx is not kept, so the client's retry runs again. Without the
/// header the request simply runs.
pub async fn idempotent(
    app: &crate::App,
    req: &Request,
    org: &OrganizationId,
    work: impl std::future::Future<Output = HttpResult>,
) -> HttpResult {
    use crate::store::idempotency::Claim;
    if req.headers().get("idempotency-key").is_none() {
        return work.await;
    }
    let key = idempotency_key(req)?;
    let hash = fingerprint(req);
    let running_for = chrono::Duration::seconds(IDEMPOTENT_RUN_SECONDS);
    match app.store.claim_idempotency_key(org, &key, &hash, app.now(), running_for).await? {
        Claim::Run => {}
        Claim::Replay { status, body } => {
            return Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .header("idempotent-replayed", "true")
                .body(Body::from(body))
                .map_err(|e| ApiError::Internal(e.into()));
        }
        Claim::InUse => {
            return Err(ApiError::Conflict {
                code: "idempotency_key_in_use",
                detail: "A request with this Idempotency-Key is still being processed; retry shortly.".into(),
            });
        }
        Claim::Mismatch => {
            return Err(ApiError::Unprocessable {
                code: "idempotency_key_reused",
                detail: "This Idempotency-Key was already used for a different request.".into(),
            });
        }
    }
    let response = work.await.unwrap_or_else(ApiError::into_response);
    let status = response.status().as_u16();
    if status >= 500 {
        if let Err(err) = app.store.release_idempotency_key(org, &key).await {
            tracing::warn!(error = %err, "idempotency key not released; a retry may wait until it expires");
        }
        return Ok(response);
    }
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    // The work is done: failing to keep its answer must not hide it from this caller.
    if let Err(err) = app.store.finish_idempotency_key(org, &key, &hash, status, &body).await {
        tracing::warn!(error = %err, "answer not kept for its idempotency key");
    }
    Ok(response)
}

/// What makes two requests the same: method, path and body.
fn fingerprint(req: &Request) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(req.method().as_str().as_bytes());
    hash.update(b"\n");
    hash.update(req.uri().path().as_bytes());
    hash.update(b"\n");
    hash.update(req.body().as_ref());
    hex::encode(hash.finalize())
}

/// A JSON answer, as text: API Gateway passes a text body through, while a binary one would
/// go out base64-encoded and be decoded again on its way to the caller.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> HttpResult {
    let body = serde_json::to_string(value).map_err(|e| ApiError::Internal(e.into()))?;
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .map_err(|e| ApiError::Internal(e.into()))
}

pub fn ok_json<T: Serialize>(value: &T) -> HttpResult {
    json_response(StatusCode::OK, value)
}

/// The service caller of an internal (`AWS_IAM`) route and the organization it acts for.
/// The workflow engine is trusted for every organization; the id must still be well formed.
pub fn authorize_service_org(
    app: &crate::App,
    req: &Request,
) -> Result<(crate::auth::ServiceCaller, OrganizationId), ApiError> {
    let caller = crate::auth::ServiceCaller::from_request(req)?;
    // API Gateway lets any principal allowed to invoke the API through; only the workflow
    // engine may reserve and settle.
    if !caller.is_one_of(&app.config.workflow_engine_principals) {
        tracing::warn!(caller = %caller.arn, "internal route called by a principal that is not the workflow engine");
        return Err(ApiError::forbidden("principal_forbidden", "This route is for the workflow engine only."));
    }
    let org = path_org(req)?;
    tracing::Span::current().record("org", org.as_str());
    Ok((caller, org))
}

/// The `{run_id}` path parameter, validated like other ids.
pub fn path_run_id(req: &Request) -> Result<String, ApiError> {
    let raw = path_param(req, "run_id")?;
    validate_run_id(&raw)?;
    Ok(raw)
}

pub fn validate_run_id(raw: &str) -> Result<(), ApiError> {
    if crate::ids::is_safe_id(raw) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_run_id",
            "run_id must be 1 to 64 characters of letters, digits, '-' or '_'.",
        ))
    }
}

/// A boolean query flag such as `?dry_run=true`.
pub fn query_flag(req: &Request, name: &str) -> Result<bool, ApiError> {
    match req.query_string_parameters_ref().and_then(|q| q.first(name)) {
        None => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => {
            Err(ApiError::bad_request("invalid_query", format!("{name} must be true or false, not {other:?}.")))
        }
    }
}

/// The `from` and `to` query parameters, in order.
pub fn time_range(req: &Request) -> Result<crate::costs::http::TimeRange, ApiError> {
    let query = req.query_string_parameters_ref();
    let get = |name: &str| query.and_then(|q| q.first(name));
    Ok(crate::costs::http::TimeRange::parse(get("from"), get("to"))?)
}

/// The `order` query parameter of lists that can be read either way: `oldest_first` (the
/// default, as the frontend guide's lists were) or `newest_first` (what a person scanning
/// recent activity wants first).
pub fn list_order(req: &Request) -> Result<crate::costs::store::Order, ApiError> {
    use crate::costs::store::Order;
    match req.query_string_parameters_ref().and_then(|q| q.first("order")) {
        None | Some("oldest_first") => Ok(Order::OldestFirst),
        Some("newest_first") => Ok(Order::NewestFirst),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("order must be oldest_first or newest_first, not {other:?}."),
        )),
    }
}

/// `from`, `to`, `limit` (1–100, default 50) and `cursor` query parameters of list routes.
/// The cursor is checked against the list's query by the store, which knows the list.
pub fn listing(req: &Request) -> Result<crate::costs::store::Listing, ApiError> {
    let range = time_range(req)?;
    let query = req.query_string_parameters_ref();
    let get = |name: &str| query.and_then(|q| q.first(name));
    let limit = crate::costs::http::parse_limit(get("limit"))?;
    Ok(crate::costs::store::Listing { from: range.from, to: range.to, limit, cursor: get("cursor").map(str::to_owned) })
}

/// Header carrying the cursor of the next page of a list (absent on the last page). Lists
/// answer with a bare JSON array, as the frontend guide's list endpoints do.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

/// A list response: the items as a JSON array, the next page's cursor in a header.
pub fn list_response<T: Serialize>(items: &[T], next_cursor: Option<String>) -> HttpResult {
    let mut response = ok_json(&items)?;
    if let Some(cursor) = next_cursor {
        let value = lambda_http::http::HeaderValue::from_str(&cursor).map_err(|e| ApiError::Internal(e.into()))?;
        response.headers_mut().insert(NEXT_CURSOR_HEADER, value);
    }
    Ok(response)
}
/// The `{invoice_id}` invoice, if the caller may see it. A malformed id, a missing invoice and
/// another organization's invoice are the same 404, so an id alone reveals nothing.
pub async fn visible_invoice(
    app: &App,
    req: &Request,
    caller: &Caller,
) -> Result<crate::invoicing::rules::Invoice, ApiError> {
    let id = path_param(req, "invoice_id")?;
    let missing = || ApiError::not_found("invoice_not_found", "There is no such invoice.");
    if !crate::ids::is_safe_id(&id) {
        return Err(missing());
    }
    let invoice = app.store.invoice_by_id(&id).await?.ok_or_else(missing)?;
    if !caller.can_access(&invoice.organization_id) {
        return Err(missing());
    }
    tracing::Span::current().record("org", invoice.organization_id.as_str());
    Ok(invoice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_and_refusals_reach_api_gateway_as_the_text_they_were_built_as() {
        let answer = json_response(StatusCode::CREATED, &serde_json::json!({"plan": "pro"})).expect("serializes");
        let refusal = ApiError::bad_request("invalid_plan", "No such plan.").into_response();
        for (response, status, body) in
            [(answer, 201, r#"{"plan":"pro"}"#), (refusal, 400, r#"{"detail":"No such plan.","code":"invalid_plan"}"#)]
        {
            let handed_over = AsBuilt(response).into_response().await;
            assert_eq!(handed_over.status().as_u16(), status);
            assert_eq!(handed_over.headers()["content-type"], "application/json");
            match handed_over.body() {
                Body::Text(text) => assert_eq!(text, body),
                other => panic!("expected a text body, got {other:?}"),
            }
        }
    }
}
