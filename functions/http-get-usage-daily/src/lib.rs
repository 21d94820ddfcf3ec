//! `GET /api/billing/account/{organization_id}/usage/daily?from&to` — one entry per UTC day of
//! the range (default: the last 30 days; at most 366), quiet days as zeros: runs by bucket,
//! what they cost the customer and the day's LLM cost. Read from the per-day aggregates with
//! one query for the whole range (`store::daily`), never from the usage records.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::usage::http::{DailyUsageResponse, day_range};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let query = req.query_string_parameters_ref();
    let from = query.and_then(|q| q.first("from"));
    let to = query.and_then(|q| q.first("to"));
    let (from, to) = day_range(from, to, app.now().date_naive())?;
    let aggregates = app.store.daily_aggregates(&org, from, to).await?;
    ok_json(&DailyUsageResponse::from_aggregates(&org, from, to, &aggregates))
}
