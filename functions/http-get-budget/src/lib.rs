//! `GET /api/billing/account/{organization_id}/budget` — the monthly budget (limit `null`
//! when none is set), this month's billable spend, and whether new runs are blocked.

use billing::App;
use billing::costs::http::BudgetResponse;
use billing::costs::rules::micros_to_usd;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::period;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let month = period::month_key(app.now());
    let budget = app.store.get_budget(&org).await?;
    let spent = app.store.month_billable(&org, &month).await?;
    let blocked = app.store.get_account(&org).await?.and_then(|a| a.budget_blocked_period).is_some_and(|m| m == month);
    ok_json(&BudgetResponse::new(budget.as_ref(), micros_to_usd(spent), blocked))
}
