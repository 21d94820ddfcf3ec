//! The customer dashboard (a single-page app built by Vite into `web/dist`) served by the local
//! server on the API's own origin, so `make dev` is the whole product in one URL: no CORS, and
//! the app's relative `/api/...` calls reach the routes of the template.
//!
//! Deployed, the app lives elsewhere (a CDN); this is the local stand-in for that, with the
//! rules such a host is given for an SPA:
//! - a GET that matches a file gets the file; any other GET (outside `/api/` and `/_local/`)
//!   gets `index.html`, so a deep link such as `/billing/invoices/123` survives a reload;
//! - `/api/...` and `/_local/...` never fall back to the app: an unknown route there keeps the
//!   API's JSON 404, as API Gateway answers it;
//! - Vite's hashed bundles under `/assets/` are cached for a year, `index.html` never (it names
//!   the current bundles);
//! - before the first web build, a short page says how to make one.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

/// Environment variable naming the web build's directory.
pub const WEB_DIST_ENV: &str = "WEB_DIST";

/// Cache rule for Vite's content-hashed bundles: a new build gets new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache rule for everything else, `index.html` first: revalidate on every load.
const REVALIDATE: &str = "no-cache";

#[derive(Debug, Clone)]
pub struct WebApp {
    dist: PathBuf,
}

impl WebApp {
    pub fn new(dist: impl Into<PathBuf>) -> Self {
        Self { dist: dist.into() }
    }

    /// `WEB_DIST`, or `web/dist` in the repository.
    pub fn from_env() -> Self {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap_or(Path::new("."));
        let dist = std::env::var_os(WEB_DIST_ENV).map(PathBuf::from).unwrap_or_else(|| repo.join("web/dist"));
        Self::new(dist.canonicalize().unwrap_or(dist))
    }

    pub fn dist(&self) -> &Path {
        &self.dist
    }

    /// Whether a build is there to serve (checked per request: the build may come later).
    pub fn is_built(&self) -> bool {
        self.dist.join("index.html").is_file()
    }

    /// Answers a request no route matched: a file of the build, the app's `index.html`, or
    /// the API's JSON 404.
    pub async fn serve(&self, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        if !matches!(*request.method(), Method::GET | Method::HEAD) || is_reserved(&path) {
            return api_not_found();
        }
        if !self.is_built() {
            return not_built(&self.dist);
        }
        if path.starts_with("/assets/") {
            // A missing bundle is a 404, never the app's HTML under a script's name.
            // `make web` writes a `.gz` beside each file; served to browsers that take gzip,
            // as CloudFront compresses in production, so local measurements match it.
            let answer = ServeDir::new(&self.dist).precompressed_gzip().try_call(request).await;
            return with_cache(respond(answer), IMMUTABLE);
        }
        let index = ServeFile::new(self.dist.join("index.html")).precompressed_gzip();
        let answer = ServeDir::new(&self.dist).precompressed_gzip().fallback(index).try_call(request).await;
        with_cache(respond(answer), REVALIDATE)
    }
}

/// Paths that belong to the API or to the local tools, never to the app.
fn is_reserved(path: &str) -> bool {
    ["/api", "/_local"].iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// The API's answer for an unknown route (as API Gateway gives it).
pub fn api_not_found() -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({ "message": "Not Found" }))).into_response()
}

fn respond<B>(answer: Result<axum::http::Response<B>, std::io::Error>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    match answer {
        Ok(response) => response.map(Body::new),
        Err(err) => {
            tracing::warn!(error = %err, "reading the web build failed");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("local server: reading the web build failed: {err}"))
                .into_response()
        }
    }
}

/// Successful answers get `rule`; errors keep whatever they had.
fn with_cache(mut response: Response, rule: &'static str) -> Response {
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
    }
    response
}

/// 503 with a page saying how to build the app: the server is up, the app is not there yet.
fn not_built(dist: &Path) -> Response {
    let dist = html_escape(&dist.display().to_string());
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Billing dashboard not built</title></head>\n\
         <body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; color: #111; line-height: 1.5\">\n\
         <h1>The billing dashboard is not built yet</h1>\n\
         <p>Run <code>make web</code>, then reload this page. The local server serves <code>{dist}</code> \
         (set <code>{WEB_DIST_ENV}</code> to serve another directory).</p>\n\
         <p>The API is up: try <a href=\"/api/billing/plans\">/api/billing/plans</a>, or sign in with \
         <a href=\"/_local/sign-in?org=demo&amp;role=owner\">/_local/sign-in?org=demo&amp;role=owner</a>.</p>\n\
         </body>\n</html>\n"
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Text made safe to put inside HTML (element content and quoted attributes).
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_and_local_tool_paths_never_fall_back_to_the_app() {
        for path in ["/api", "/api/", "/api/billing/nope", "/_local", "/_local/sign-in"] {
            assert!(is_reserved(path), "{path}");
        }
        for path in ["/", "/billing", "/billing/invoices/123", "/apiary", "/_localish", "/assets/app.js"] {
            assert!(!is_reserved(path), "{path}");
        }
    }

    #[test]
    fn html_escape_neutralises_markup_and_quotes() {
        assert_eq!(html_escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
