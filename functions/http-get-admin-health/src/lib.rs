//! `GET /api/billing/admin/health` (billing-admin) → `HealthResponse`: the depth and
//! oldest-message age of every queue and dead-letter queue, the last run of every schedule,
//! Stripe reachability and the table's status. Reads only; nothing is audited.
//!
//! Only this function reads CloudWatch (`billing::cloudwatch`), with a reader built per call
//! from the process's AWS configuration: operators ask rarely, and no other function carries it.

use billing::App;
use billing::auth::Caller;
use billing::cloudwatch::MetricsReader;
use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let metrics = MetricsReader::new(&app.aws);
    let health = billing::operators::flow::health::health(&app, &metrics).await?;
    ok_json(&health)
}
