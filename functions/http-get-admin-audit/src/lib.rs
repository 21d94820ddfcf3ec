//! `GET /api/billing/admin/audit?organization_id&from&to&limit&cursor` (billing-admin) — an
//! organization's audit trail, newest first (the `/usage` list conventions). The organization
//! is required: entries live in its partition, and no index key is shared by every account.

use billing::api::admin::AuditEntryResponse;
use billing::domain::OrganizationId;
use billing::lambda::HttpResult;
use billing::lambda::http::{list_response, listing};
use billing::{ApiError, App, auth::Caller};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let raw = req.query_string_parameters_ref().and_then(|q| q.first("organization_id")).ok_or_else(|| {
        ApiError::bad_request(
            "organization_required",
            "organization_id is required: the audit trail is per organization.",
        )
    })?;
    let org =
        OrganizationId::parse(raw).map_err(|e| ApiError::bad_request("invalid_organization_id", e.to_string()))?;
    let page = app.store.list_audit(&org, &listing(&req)?).await?;
    let entries: Vec<AuditEntryResponse> = page.items.iter().map(AuditEntryResponse::from).collect();
    list_response(&entries, page.next_cursor)
}
