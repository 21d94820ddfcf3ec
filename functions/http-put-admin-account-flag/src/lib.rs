//! `PUT /api/billing/admin/accounts/{organization_id}/flags/{flag}` `{enabled, reason}`
//! (billing-admin) → `OrganizationFlagResponse`. `enabled` true or false overrides a defined
//! flag for the organization, `null` removes the override; audited in the organization's trail.

use billing::App;
use billing::flags::flow as flags;
use billing::flags::http::{OrganizationFlagRequest, OrganizationFlagResponse};
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_admin, json_body, ok_json, path_flag};
use billing::operators::flow::Operator;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_admin(&req)?;
    let name = path_flag(&req)?;
    let body: OrganizationFlagRequest = json_body(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let set = flags::set_for_organization(&app, &org, &name, body.enabled, operator, body.reason.as_deref()).await?;
    ok_json(&OrganizationFlagResponse::new(org.as_str(), name.as_str(), set.overridden, set.evaluated))
}
