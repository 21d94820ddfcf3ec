//! `GET /api/billing/account/{organization_id}/usage?billed&from&to&limit&cursor` — usage
//! records (one per committed run), oldest first, as the frontend guide's
//! `UsageRecordResponse`, with `next_cursor` for the next page.

use billing::api::quota::UsageRecordResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{ListResponse, authorize_org, listing, ok_json};
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
    let page = app.store.list_usage(&org, billed, &listing(&req)?).await?;
    ok_json(&ListResponse {
        items: page.items.iter().map(UsageRecordResponse::from).collect(),
        next_cursor: page.next_cursor,
    })
}
