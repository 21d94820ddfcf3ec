//! `GET /api/billing/account/{organization_id}/quota` — the organization's standing in every
//! bucket: free workflows and their reset, credits available and held, subscription usage,
//! active runs against the concurrency limit.

use billing::App;
use billing::accounts::store::AccountItem;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::quota::http::QuotaStandingResponse;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let (now, catalog) = (app.now(), app.catalog());
    let fresh = AccountItem::new_free(&org, now, catalog.free_workflows_per_month(), catalog.free_tier.clone());
    let account = app.store.get_or_create_account(fresh).await?;
    ok_json(&QuotaStandingResponse::at(&account, catalog, now))
}
