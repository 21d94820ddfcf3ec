//! `POST /api/billing/internal/quota/{organization_id}/reservations/{run_id}/heartbeat` (IAM).
//! Extends the hold's expiry by the hold TTL from now.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_service_org, ok_json, path_run_id};
use billing::quota::http::ReservationResponse;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_service, org) = authorize_service_org(&app, &req)?;
    let run_id = path_run_id(&req)?;
    let hold = app.store.heartbeat(&org, &run_id, app.now(), app.hold_ttl()).await?;
    ok_json(&ReservationResponse::new(org.as_str(), &run_id, &hold))
}
