//! `GET /api/billing/account/{organization_id}/costs?from&to&order&limit&cursor` — LLM cost
//! records, oldest first unless `order=newest_first`, as the frontend guide's `CostRecordResponse`.

use billing::App;
use billing::costs::http::CostRecordResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, list_order, list_response, listing};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let page = app.store.list_costs(&org, &listing(&req)?, list_order(&req)?).await?;
    let items: Vec<CostRecordResponse> = page.items.iter().map(CostRecordResponse::from).collect();
    list_response(&items, page.next_cursor)
}
