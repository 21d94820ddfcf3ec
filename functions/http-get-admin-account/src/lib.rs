//! `GET /api/billing/admin/accounts/{organization_id}` (billing-admin) →
//! `AccountDetailResponse`: the account, its subscription, limits and overrides, open holds,
//! recent ledger, invoices and audit entries, budget and flags. `404 account_not_found` when
//! the organization has no billing account.

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_admin, ok_json};
use billing::operators::flow::directory;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_admin(&req)?;
    ok_json(&directory::account_detail(&app, &org).await?)
}
