//! `POST /api/billing/internal/quota/{organization_id}/reservations/{run_id}/commit` (IAM).
//!
//! Records the run's usage exactly once and settles its hold: below the hold the difference
//! goes back to credits; above it only with `overage_approved`.
//! `details` are kept as sent up to 4 KB and 16 levels of nesting; beyond that, `400`. A repeat returns `200` with
//! the same usage record; the first commit answers `201`.

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_service_org, json_body, json_response, path_run_id};
use billing::quota::http::{CommitRequest, CommitResponse, UsageRecordResponse, amount_to_cents};
use billing::quota::rules::Outcome;
use billing::usage::rules::RunDetails;
use billing::{ApiError, App};
use lambda_http::Request;
use lambda_http::http::StatusCode;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_service, org) = authorize_service_org(&app, &req)?;
    let run_id = path_run_id(&req)?;
    // An empty body commits at the held amount.
    let body: CommitRequest = if req.body().is_empty() { CommitRequest::default() } else { json_body(&req)? };
    let actual = body
        .actual_cost_usd
        .map(|usd| amount_to_cents("actual_cost_usd", usd))
        .transpose()
        .map_err(|detail| ApiError::bad_request("invalid_amount", detail))?;
    if let Some(details) = &body.details {
        RunDetails::check(details).map_err(|detail| ApiError::bad_request("invalid_details", detail))?;
    }
    let committed = app.store.commit(&org, &run_id, actual, body.overage_approved, body.details, app.now()).await?;
    let status = if committed.created { StatusCode::CREATED } else { StatusCode::OK };
    json_response(
        status,
        &CommitResponse { run_id, outcome: Outcome::Committed, usage: UsageRecordResponse::from(&committed.usage) },
    )
}
