//! `GET /api/billing/openapi.json` — the OpenAPI 3.1 description of this API. Public, like
//! any API reference.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(_app: App, _req: Request) -> HttpResult {
    ok_json(&billing::openapi::document())
}
