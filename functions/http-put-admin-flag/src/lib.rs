//! `PUT /api/billing/admin/flags/{flag}` `{enabled, tiers?, description?, reason}`
//! (billing-admin) → `FlagResponse`. Defines the flag or replaces its default and tier
//! values (tiers must be the catalog's); audited in the flag's own trail
//! (`GET admin/audit?flag=`).

use billing::flags::flow as flags;
use billing::flags::http::{FlagRequest, FlagResponse};
use billing::lambda::HttpResult;
use billing::lambda::http::{json_body, ok_json, path_flag};
use billing::operators::flow::Operator;
use billing::{App, auth::Caller};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let caller = Caller::from_request(&req)?;
    caller.require_admin()?;
    let name = path_flag(&req)?;
    let body: FlagRequest = json_body(&req)?;
    let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
    let flag = flags::define(&app, &name, body.setting(), operator, body.reason.as_deref()).await?;
    ok_json(&FlagResponse::from(&flag))
}
