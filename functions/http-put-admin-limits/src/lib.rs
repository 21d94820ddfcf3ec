//! `PUT /api/billing/admin/accounts/{organization_id}/limits` `{workflows_per_month?,
//! concurrent_agents?, storage_gb?, reason}` (billing-admin), each `{value, expires_at?}` →
//! `LimitsResponse`. Replaces the account's overrides (an absent one: the tier's limit);
//! reserve, `/quota` and `/subscription` apply them until they expire. Audited.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_admin, json_body, ok_json};
use billing::operators::flow::{self as admin, Operator};
use billing::operators::http::{LimitsRequest, LimitsResponse};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_admin(&req)?;
    let body: LimitsRequest = json_body(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let (account, in_force) = admin::set_limits(&app, &org, operator, body.overrides(), body.reason.as_deref()).await?;
    ok_json(&LimitsResponse {
        organization_id: org.to_string(),
        tier: account.tier.to_string(),
        overrides: account.limit_overrides,
        in_force,
    })
}
