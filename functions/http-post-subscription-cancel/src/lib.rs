//! `POST /api/billing/account/{organization_id}/subscription/cancel`
//! `{at_period_end: true (default), reason?}` → the updated `SubscriptionResponse`. At period
//! end the service continues until `current_period_end`; otherwise it ends now and the unused
//! part of the period is credited.

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotency_key, idempotent, json_body_or_empty, ok_json};
use billing::purchases::http::CancelRequest;
use billing::subscriptions::flow::manage::{self, Asker};
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: CancelRequest = json_body_or_empty(&req)?;
        if body.reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(ApiError::bad_request("invalid_reason", "reason must be at most 500 characters."));
        }
        let key = idempotency_key(&req)?;
        let asker = Asker { user: caller.subject.as_deref().unwrap_or("unknown"), idempotency_key: &key };
        ok_json(&manage::cancel(&app, &org, asker, body.at_period_end.unwrap_or(true), body.reason).await?)
    })
    .await
}
