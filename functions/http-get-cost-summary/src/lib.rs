//! `GET /api/billing/account/{organization_id}/costs/summary?from&to` — totals and a
//! provider/model breakdown, read from daily aggregates (kept by atomic adds), never by
//! scanning records. Bounds are whole UTC days; the default is the current month. `from`
//! after `to` (given or defaulted) is a 400, not an inverted range DynamoDB would refuse.

use billing::App;
use billing::costs::http::CostSummaryResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json, time_range};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let (from, to) = time_range(&req)?.summary_days(app.now())?;
    let aggregates = app.store.cost_aggregates(&org, from, to).await?;
    ok_json(&CostSummaryResponse::from_aggregates(&org, &aggregates))
}
