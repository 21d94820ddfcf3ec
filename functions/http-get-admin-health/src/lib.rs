//! `GET /api/billing/admin/health` (billing-admin) → `HealthResponse`: the depth of every
//! queue and dead-letter queue, the last run of every schedule, Stripe reachability and the
//! table's status. Reads only; nothing is audited.

use billing::App;
use billing::auth::Caller;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let health = billing::flows::health::health(&app).await?;
    ok_json(&health)
}
