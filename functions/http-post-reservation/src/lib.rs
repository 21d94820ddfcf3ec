//! `POST /api/billing/internal/quota/{organization_id}/reservations` (IAM; workflow engine).
//!
//! Reserves quota for one run: `201` with the new hold, `200` with the existing one when the
//! run id was seen before, `402`/`429`/`403` when refused. With `?dry_run=true` it answers
//! what it would do (`200`, `{"allowed", "bucket", "code", "detail"}`) and writes nothing.

use billing::events::{DomainEvent, Envelope};
use billing::ids::OrganizationId;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_service_org, json_body, json_response, ok_json, query_flag, validate_run_id};
use billing::quota::http::{ReservationCheckResponse, ReservationRequest, ReservationResponse, amount_to_cents};
use billing::quota::rules::{Decision, Refusal, ReserveRequest};
use billing::quota::store::QuotaError;
use billing::telemetry::metrics;
use billing::{ApiError, App};
use lambda_http::Request;
use lambda_http::http::StatusCode;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_service, org) = authorize_service_org(&app, &req)?;
    let body: ReservationRequest = json_body(&req)?;
    validate_run_id(&body.run_id)?;
    let estimated_cost_cents = body
        .estimated_cost_usd
        .map(|usd| amount_to_cents("estimated_cost_usd", usd))
        .transpose()
        .map_err(|detail| ApiError::bad_request("invalid_amount", detail))?;
    let request = ReserveRequest { run_id: body.run_id.clone(), kind: body.kind, estimated_cost_cents };
    let (now, ttl) = (app.now(), app.hold_ttl());

    if query_flag(&req, "dry_run")? {
        let decision = app.store.check_reserve(&org, &request, app.catalog(), now, ttl).await?;
        return ok_json(&check_response(decision));
    }
    let reserved = match app.store.reserve(&org, &request, app.catalog(), now, ttl).await {
        Ok(reserved) => reserved,
        Err(QuotaError::Refused(refusal)) => {
            metrics::reservation_refused(&refusal);
            if refusal == Refusal::Exhausted {
                announce_exhausted(&app, &org, &request).await;
            }
            return Err(QuotaError::Refused(refusal).into());
        }
        Err(err) => return Err(err.into()),
    };
    if reserved.created {
        metrics::reservation_granted();
    }
    let status = if reserved.created { StatusCode::CREATED } else { StatusCode::OK };
    json_response(status, &ReservationResponse::new(org.as_str(), &body.run_id, &reserved.hold))
}

fn check_response(decision: Decision) -> ReservationCheckResponse {
    let refusal = |err: QuotaError| {
        let err = ApiError::from(err);
        ReservationCheckResponse {
            allowed: false,
            bucket: None,
            code: Some(err.code().to_owned()),
            detail: Some(err.public_detail()),
        }
    };
    match decision {
        Decision::Grant(grant) => {
            ReservationCheckResponse { allowed: true, bucket: Some(grant.hold.bucket), code: None, detail: None }
        }
        Decision::Existing(hold) => {
            ReservationCheckResponse { allowed: true, bucket: Some(hold.bucket), code: None, detail: None }
        }
        Decision::Refuse(refusal_reason) => refusal(QuotaError::Refused(refusal_reason)),
    }
}

/// Tells subscribers a run was refused for lack of quota, through the outbox like every other
/// event (the stream publishes it, retrying a failed PutEvents). The refusal stands either
/// way; a failed write is logged, not turned into a 5xx.
async fn announce_exhausted(app: &App, org: &OrganizationId, request: &ReserveRequest) {
    let kind = serde_json::to_value(request.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let event = DomainEvent::QuotaExhausted { run_id: request.run_id.clone(), kind };
    let envelope = Envelope::new(format!("quota-exhausted-{org}-{}", request.run_id), org, app.now(), event);
    if let Err(err) = app.store.announce(&envelope, app.now()).await {
        tracing::error!(error = %err, "could not announce QuotaExhausted");
    }
}
