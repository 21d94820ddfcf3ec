//! `GET /api/billing/account/{organization_id}/usage?billed&from&to&order&limit&cursor` —
//! usage records (one per committed run), oldest first unless `order=newest_first`, as the frontend guide's
//! `UsageRecordResponse`, with the next page's cursor in the `x-next-cursor` header.

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, list_order, list_response, listing};
use billing::quota::http::UsageRecordResponse;
use billing::{ApiError, App};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let billed = match req.query_string_parameters_ref().and_then(|q| q.first("billed")) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("billed must be true or false, not {other:?}."),
            ));
        }
    };
    let page = app.store.list_usage(&org, billed, &listing(&req)?, list_order(&req)?).await?;
    let items: Vec<UsageRecordResponse> = page.items.iter().map(UsageRecordResponse::from).collect();
    list_response(&items, page.next_cursor)
}
