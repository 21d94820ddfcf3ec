//! `POST /api/billing/admin/accounts/{organization_id}/suspend` `{reason}` (billing-admin) →
//! `AccountStandingResponse`: no new runs until an operator lifts it; a payment does not.
//! Audited with the operator and the reason; `AccountSuspended`.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_admin, json_body_or_empty, ok_json};
use billing::operators::flow::{self as admin, Operator};
use billing::operators::http::{AccountStandingResponse, AdminReasonRequest};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_admin(&req)?;
    let body: AdminReasonRequest = json_body_or_empty(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let standing = admin::suspend(&app, &org, operator, body.reason.as_deref()).await?;
    ok_json(&AccountStandingResponse::new(org.as_str(), &standing))
}
