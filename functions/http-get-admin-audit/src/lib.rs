//! `GET /api/billing/admin/audit?organization_id|flag&from&to&limit&cursor` (billing-admin) —
//! an organization's audit trail, or a flag's (its default and tier changes), newest first
//! (the `/usage` list conventions). Exactly one of the two is required: entries live in the
//! organization's or the flag's partition, and no index key is shared by every account.

use billing::api::admin::AuditEntryResponse;
use billing::domain::OrganizationId;
use billing::domain::flags::FlagName;
use billing::lambda::HttpResult;
use billing::lambda::http::{list_response, listing};
use billing::{ApiError, App, auth::Caller};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let query = req.query_string_parameters_ref();
    let listing = listing(&req)?;
    let page = match (query.and_then(|q| q.first("organization_id")), query.and_then(|q| q.first("flag"))) {
        (Some(raw), None) => {
            let org = OrganizationId::parse(raw)
                .map_err(|e| ApiError::bad_request("invalid_organization_id", e.to_string()))?;
            app.store.list_audit(&org, &listing).await?
        }
        (None, Some(raw)) => {
            let flag = FlagName::parse(raw).map_err(|e| ApiError::bad_request("invalid_flag", e.to_string()))?;
            app.store.list_flag_audit(&flag, &listing).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "organization_required",
                "Exactly one of organization_id or flag is required: the audit trail is per organization or per flag.",
            ));
        }
    };
    let entries: Vec<AuditEntryResponse> = page.items.iter().map(AuditEntryResponse::from).collect();
    list_response(&entries, page.next_cursor)
}
