//! `GET /api/billing/account/{organization_id}/subscription/preview?tier=` → what changing
//! to `tier` would cost now (Stripe's proration preview) and from the next period. Changes
//! nothing.

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::subscriptions::flow::manage;
use billing::{ApiError, App};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let tier = req
        .query_string_parameters_ref()
        .and_then(|q| q.first("tier"))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("invalid_query", "tier is required, e.g. ?tier=team."))?;
    ok_json(&manage::preview(&app, &org, &tier).await?)
}
