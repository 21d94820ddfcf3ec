//! `GET /api/billing/account/{organization_id}/export/{kind}?billed&status&from&to&order&limit&cursor`
//! — usage records, LLM cost records or invoices as a CSV attachment (`<org>-<kind>.csv`):
//! the rows of `/usage`, `/costs` or `/invoices` with the same filters, order and cursors, up
//! to 5,000 rows (or `limit`) per response, the next page's cursor in `x-next-cursor`.
//! A filter another kind reads (`billed` on costs) is a 400, not silently ignored.

use billing::costs::http::CostRecordResponse;
use billing::costs::store::Listing;
use billing::exports::http::{self as export, ExportKind};
use billing::invoicing::http::InvoiceResponse;
use billing::invoicing::rules::InvoiceStatus;
use billing::lambda::HttpResult;
use billing::lambda::http::{NEXT_CURSOR_HEADER, authorize_org, list_order, path_param, time_range};
use billing::quota::http::UsageRecordResponse;
use billing::{ApiError, App};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Request, RequestExt, Response};

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let kind = ExportKind::parse(&path_param(&req, "kind")?)?;
    let query = req.query_string_parameters_ref();
    let billed = query.and_then(|q| q.first("billed"));
    let status = query.and_then(|q| q.first("status"));
    let order = query.and_then(|q| q.first("order"));
    export::check_filters(
        kind,
        &[("billed", billed.is_some()), ("status", status.is_some()), ("order", order.is_some())],
    )?;
    let order = list_order(&req)?;
    let range = time_range(&req)?;
    let listing = Listing {
        from: range.from,
        to: range.to,
        limit: export::export_limit(query.and_then(|q| q.first("limit")))?,
        cursor: query.and_then(|q| q.first("cursor")).map(str::to_owned),
    };
    let (rows, next_cursor) = match kind {
        ExportKind::Usage => {
            let page = app.store.list_usage(&org, billed.map(parse_billed).transpose()?, &listing, order).await?;
            (page.items.iter().map(|r| export::usage_row(&UsageRecordResponse::from(r))).collect(), page.next_cursor)
        }
        ExportKind::Costs => {
            let page = app.store.list_costs(&org, &listing, order).await?;
            (page.items.iter().map(|r| export::cost_row(&CostRecordResponse::from(r))).collect(), page.next_cursor)
        }
        ExportKind::Invoices => {
            let page = app.store.list_invoices(&org, status.map(parse_status).transpose()?, &listing).await?;
            (page.items.iter().map(|i| export::invoice_row(&InvoiceResponse::from(i))).collect(), page.next_cursor)
        }
    };
    csv_response(&export::file_name(&org, kind), kind.header(), rows, next_cursor)
}

fn parse_billed(raw: &str) -> Result<bool, ApiError> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::bad_request("invalid_query", format!("billed must be true or false, not {other:?}."))),
    }
}

fn parse_status(raw: &str) -> Result<InvoiceStatus, ApiError> {
    InvoiceStatus::parse(raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_query",
            format!("status must be one of draft, open, paid, past_due or void, not {raw:?}."),
        )
    })
}

/// The rows as an attachment. A header row always comes first, so an empty page is still a
/// well-formed file.
fn csv_response(file: &str, header: &[&str], rows: Vec<Vec<String>>, next_cursor: Option<String>) -> HttpResult {
    let internal =
        |e: &dyn std::fmt::Display| ApiError::Internal(std::io::Error::other(format!("CSV export: {e}")).into());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(|e| internal(&e))?;
    for row in rows {
        writer.write_record(&row).map_err(|e| internal(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| internal(&e))?;
    let text = String::from_utf8(bytes).map_err(|e| internal(&e))?;
    let mut response = Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", format!("attachment; filename=\"{file}\""))
        // A text body passes API Gateway as it is; a binary one would go out base64-encoded.
        .body(Body::from(text))
        .map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(cursor) = next_cursor {
        let value = HeaderValue::from_str(&cursor).map_err(|e| ApiError::Internal(e.into()))?;
        response.headers_mut().insert(NEXT_CURSOR_HEADER, value);
    }
    Ok(response)
}
