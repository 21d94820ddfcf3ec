//! `GET /api/billing/account/{organization_id}` — the organization's billing account, created
//! on first visit with this month's free quota.

use billing::App;
use billing::accounts::http::BillingAccountResponse;
use billing::accounts::store::AccountItem;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let now = app.now();
    let catalog = app.catalog();
    let fresh = AccountItem::new_free(&org, now, catalog.free_workflows_per_month(), catalog.free_tier.clone());
    let account = app.store.get_or_create_account(fresh).await?;
    ok_json(&BillingAccountResponse::at(&account, now, catalog.free_workflows_per_month()))
}
