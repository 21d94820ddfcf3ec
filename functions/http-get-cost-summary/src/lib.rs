//! `GET /api/billing/account/{organization_id}/costs/summary?from&to` — totals and a
//! provider/model breakdown, read from daily aggregates (kept by atomic adds), never by
//! scanning records. Bounds are whole UTC days; the default is the current month.

use billing::App;
use billing::api::costs::CostSummaryResponse;
use billing::domain::period;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, listing, ok_json};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let bounds = listing(&req)?;
    let now = app.now();
    let from = bounds.from.unwrap_or_else(|| period::month_start(now)).date_naive();
    let to = bounds.to.unwrap_or(now).date_naive();
    let aggregates = app.store.cost_aggregates(&org, from, to).await?;
    ok_json(&CostSummaryResponse::from_aggregates(&org, &aggregates))
}
