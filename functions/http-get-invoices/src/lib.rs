//! `GET /api/billing/account/{organization_id}/invoices?status&from&to&limit&cursor` — the
//! organization's invoices, newest first, as the frontend guide's `InvoiceResponse`, with the
//! next page's cursor in the `x-next-cursor` header (the conventions of `/usage`).

use billing::invoicing::http::InvoiceResponse;
use billing::invoicing::rules::InvoiceStatus;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, list_response, listing};
use billing::{ApiError, App};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let status = match req.query_string_parameters_ref().and_then(|q| q.first("status")) {
        None => None,
        Some(raw) => Some(InvoiceStatus::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("status must be one of draft, open, paid, past_due or void, not {raw:?}."),
            )
        })?),
    };
    let page = app.store.list_invoices(&org, status, &listing(&req)?).await?;
    let items: Vec<InvoiceResponse> = page.items.iter().map(InvoiceResponse::from).collect();
    list_response(&items, page.next_cursor)
}
