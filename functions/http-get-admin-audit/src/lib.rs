//! `GET /api/billing/admin/audit?organization_id|flag|queue&from&to&limit&cursor`
//! (billing-admin) — an audit trail, newest first (the `/usage` list conventions): an
//! organization's, a flag's (its default and tier changes) or a queue's (redrives). Exactly
//! one is required: entries live in that partition, and no index key is shared by every
//! account.

use billing::flags::rules::FlagName;
use billing::ids::OrganizationId;
use billing::lambda::HttpResult;
use billing::lambda::http::{list_response, listing};
use billing::operators::http::AuditEntryResponse;
use billing::operators::rules::audit::{flag_partition, queue_partition};
use billing::{ApiError, App, auth::Caller};
use lambda_http::{Request, RequestExt};

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let query = req.query_string_parameters_ref();
    let listing = listing(&req)?;
    let subjects = (
        query.and_then(|q| q.first("organization_id")),
        query.and_then(|q| q.first("flag")),
        query.and_then(|q| q.first("queue")),
    );
    let page = match subjects {
        (Some(raw), None, None) => {
            let org = OrganizationId::parse(raw)
                .map_err(|e| ApiError::bad_request("invalid_organization_id", e.to_string()))?;
            app.store.list_audit(&org, &listing).await?
        }
        (None, Some(raw), None) => {
            let flag = FlagName::parse(raw).map_err(|e| ApiError::bad_request("invalid_flag", e.to_string()))?;
            app.store.list_platform_audit(flag_partition(&flag), &listing).await?
        }
        (None, None, Some(raw)) => {
            let queue = billing::operators::rules::queues::find(raw)
                .ok_or_else(|| ApiError::not_found("unknown_queue", format!("There is no queue {raw:?}.")))?;
            app.store.list_platform_audit(queue_partition(queue.name), &listing).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "organization_required",
                "Exactly one of organization_id, flag or queue is required: each trail is read on its own.",
            ));
        }
    };
    let entries: Vec<AuditEntryResponse> = page.items.iter().map(AuditEntryResponse::from).collect();
    list_response(&entries, page.next_cursor)
}
