//! `POST /api/billing/internal/quota/{organization_id}/reservations/{run_id}/release` (IAM).
//! Returns exactly what the hold took (a failed or cancelled run). Repeats answer the same;
//! a hold that already expired answers `200` with outcome `expired`.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_service_org, ok_json, path_run_id};
use billing::quota::http::ReleaseResponse;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_service, org) = authorize_service_org(&app, &req)?;
    let run_id = path_run_id(&req)?;
    let released = app.store.release(&org, &run_id, app.now()).await?;
    ok_json(&ReleaseResponse::new(&run_id, &released.settlement))
}
