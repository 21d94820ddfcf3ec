//! The local HTTP API: each `HttpApi` route of the template, served by its function's handler
//! with the request API Gateway would send (payload format 2.0), including the authorizer
//! context built from a verified dev token.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawPathParams, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use billing::App;
use billing::lambda::HttpHandler;
use serde_json::{Value, json};

use crate::registry;
use crate::template::{Route, RouteAuth, Template};
use crate::tokens::DevTokens;

/// Group a dev token must carry to call `AWS_IAM` routes (standing in for SigV4).
pub const SERVICE_GROUP: &str = "billing-service";

/// The IAM role the local server says a service token's subject assumed (`workflow-engine`
/// unless the token names another): what `WORKFLOW_ENGINE_PRINCIPALS` allows locally.
pub const LOCAL_ENGINE_ROLE: &str = "arn:aws:iam::000000000000:role/workflow-engine";

struct RouteTarget {
    route: Route,
    handler: Arc<dyn HttpHandler>,
    app: App,
    tokens: DevTokens,
}

/// What `make dev` serves besides the template's routes.
#[derive(Default)]
pub struct LocalSite {
    /// Local tools under `/_local/` (sign-in, the Checkout stand-in), outside the template.
    pub routes: Router,
    /// The web app's build, served for every other GET (`None`: the API's JSON 404).
    pub web: Option<crate::web::WebApp>,
}

/// Builds the router for every HttpApi route in `template`. Fails if a route names a binary
/// that has no registered handler.
pub fn router(app: App, tokens: DevTokens, template: &Template) -> anyhow::Result<Router> {
    site(app, tokens, template, LocalSite::default())
}

/// [`router`] with the local tools and the web app of `local`, behind the same CORS rules.
pub fn site(app: App, tokens: DevTokens, template: &Template, local: LocalSite) -> anyhow::Result<Router> {
    let handlers = registry::http_handlers();
    let mut by_path: BTreeMap<String, MethodRouter> = BTreeMap::new();
    for (route, binary) in template.routes()? {
        let handler =
            handlers.get(binary.as_str()).with_context(|| format!("no handler registered for {binary}"))?.clone();
        let method =
            Method::from_bytes(route.method.as_bytes()).with_context(|| format!("bad method {}", route.method))?;
        let filter = MethodFilter::try_from(method).map_err(|e| anyhow::anyhow!("{e}"))?;
        let path = route.path.clone();
        let target = Arc::new(RouteTarget { route, handler, app: app.clone(), tokens: tokens.clone() });
        let entry = by_path.remove(&path).unwrap_or_default();
        let method_router =
            entry.on(filter, move |params: RawPathParams, req: Request| invoke(target.clone(), params, req));
        by_path.insert(path, method_router);
    }
    let mut router = Router::new();
    for (path, method_router) in by_path {
        router = router.route(&path, method_router);
    }
    // Schedules never fire locally (moto stores them but does not run them): trigger one by
    // hand with `POST /_local/schedules/<binary>`. Loopback-only, like the whole server.
    let schedule_app = app.clone();
    router = router.route(
        "/_local/schedules/{name}",
        axum::routing::post(move |axum::extract::Path(name): axum::extract::Path<String>| {
            run_schedule(schedule_app.clone(), name)
        }),
    );
    let origin = app.config.frontend_url.trim_end_matches('/').to_owned();
    let origin = Arc::new(
        axum::http::HeaderValue::from_str(&origin)
            .with_context(|| format!("FRONTEND_URL {origin:?} is not a valid origin"))?,
    );
    router = router.merge(local.routes);
    router = match local.web {
        Some(web) => {
            let web = Arc::new(web);
            router.fallback(move |req: Request| {
                let web = web.clone();
                async move { web.serve(req).await }
            })
        }
        None => router.fallback(|| async { crate::web::api_not_found() }),
    };
    Ok(router.layer(axum::middleware::from_fn(move |req, next| cors(origin.clone(), req, next))))
}

/// CORS as the template's `CorsConfiguration` makes API Gateway answer it: preflights for the
/// frontend origin are answered without authentication, and responses carry the allow-origin.
async fn cors(origin: Arc<axum::http::HeaderValue>, req: Request, next: axum::middleware::Next) -> Response {
    let allowed = req.headers().get("origin") == Some(origin.as_ref());
    let preflight = req.method() == Method::OPTIONS && req.headers().contains_key("access-control-request-method");
    let mut response = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(req).await };
    if allowed {
        let headers = response.headers_mut();
        let fixed = axum::http::HeaderValue::from_static;
        headers.insert("access-control-allow-origin", origin.as_ref().clone());
        headers.insert("vary", fixed("origin"));
        headers.insert("access-control-expose-headers", fixed("x-next-cursor, content-disposition"));
        if preflight {
            headers.insert("access-control-allow-methods", fixed("GET, POST, PUT, DELETE, OPTIONS"));
            headers.insert("access-control-allow-headers", fixed("authorization, content-type, idempotency-key"));
            headers.insert("access-control-max-age", fixed("600"));
        }
    }
    response
}

async fn run_schedule(app: App, name: String) -> Response {
    let Some(handler) = registry::schedule_handlers().remove(name.as_str()) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({ "message": format!("no scheduled function {name}") })))
            .into_response();
    };
    let event = json!({ "job": name, "source": "local-server" });
    match billing::lambda::schedule::handle_schedule(handler.as_ref(), app, event).await {
        Ok(summary) => (StatusCode::OK, axum::Json(summary)).into_response(),
        Err(err) => {
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({ "message": format!("{err:#}") }))).into_response()
        }
    }
}

async fn invoke(target: Arc<RouteTarget>, params: RawPathParams, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 6 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(json!({ "message": "Request Entity Too Large" })))
                .into_response();
        }
    };
    let authorizer = match authorize(&target, &parts.headers) {
        Ok(authorizer) => authorizer,
        Err(refused) => return refused.into_response(),
    };
    let path_params: HashMap<String, String> = params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let event = gateway_event(&target.route, &parts, &path_params, authorizer, &body);
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => request,
        Err(err) => {
            return (StatusCode::BAD_REQUEST, axum::Json(json!({ "message": format!("local server: {err}") })))
                .into_response();
        }
    };
    let response = billing::lambda::http::handle_http(target.handler.as_ref(), target.app.clone(), request).await;
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = body.as_ref().to_vec();
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// API Gateway's own refusals, before any function runs: a JWT authorizer answers 401, IAM
/// authorization 403.
enum GatewayRefusal {
    Unauthorized,
    Forbidden,
}

impl IntoResponse for GatewayRefusal {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "Forbidden"),
        };
        (status, axum::Json(json!({ "message": message }))).into_response()
    }
}

/// What API Gateway's authorizer would produce for this route, or its refusal.
fn authorize(target: &RouteTarget, headers: &HeaderMap) -> Result<Option<Value>, GatewayRefusal> {
    let bearer = || {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or(())
            .and_then(|token| target.tokens.verify(token.trim()).map_err(|_| ()))
    };
    match &target.route.auth {
        RouteAuth::None => Ok(None),
        RouteAuth::Jwt(_) => {
            let claims = bearer().map_err(|()| GatewayRefusal::Unauthorized)?;
            Ok(Some(json!({ "jwt": { "claims": claims, "scopes": null } })))
        }
        RouteAuth::Iam => {
            let claims = bearer().map_err(|()| GatewayRefusal::Forbidden)?;
            let groups = claims.get("groups").map(|g| billing::auth::parse_list_claim(g)).unwrap_or_default();
            if !groups.iter().any(|g| g == SERVICE_GROUP) {
                return Err(GatewayRefusal::Forbidden);
            }
            let caller = claims.get("sub").cloned().unwrap_or_else(|| "workflow-engine".to_owned());
            Ok(Some(json!({ "iam": {
                "accountId": "000000000000",
                "callerId": caller,
                "userArn": format!("arn:aws:sts::000000000000:assumed-role/{caller}/local"),
                "userId": caller,
            }})))
        }
    }
}

fn gateway_event(
    route: &Route,
    parts: &axum::http::request::Parts,
    path_params: &HashMap<String, String>,
    authorizer: Option<Value>,
    body: &Bytes,
) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw_query = parts.uri.query().unwrap_or("");
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    // API Gateway joins repeated parameters with commas.
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(raw_query).unwrap_or_default() {
        query
            .entry(k)
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert(v);
    }
    let now = chrono::Utc::now();
    let route_key = format!("{} {}", route.method, route.path);
    let mut context = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "local",
        "http": {
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
        "pathParameters": if path_params.is_empty() { Value::Null } else { json!(path_params) },
        "requestContext": context,
        "body": if body.is_empty() { Value::Null } else { Value::String(String::from_utf8_lossy(body).into_owned()) },
        "isBase64Encoded": false,
    })
}
