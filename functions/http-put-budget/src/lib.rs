//! `PUT /api/billing/account/{organization_id}/budget` `{monthly_limit_usd, warn_at_percent
//! (1–100, default 80), hard_cap}`. Raising the limit above this month's spend lifts a hard-cap
//! block at once; thresholds already reached under the new budget fire on the next cost.

use billing::costs::http::{BudgetRequest, BudgetResponse};
use billing::costs::rules::budget::Budget;
use billing::costs::rules::micros_to_usd;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, json_body, ok_json};
use billing::period;
use billing::quota::http::amount_to_cents;
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    let body: BudgetRequest = json_body(&req)?;
    let limit = amount_to_cents("monthly_limit_usd", body.monthly_limit_usd)
        .map_err(|d| ApiError::bad_request("invalid_amount", d))?;
    if limit == 0 {
        return Err(ApiError::bad_request("invalid_amount", "monthly_limit_usd must be above 0."));
    }
    if !(1..=100).contains(&body.warn_at_percent) {
        return Err(ApiError::bad_request("invalid_percent", "warn_at_percent must be from 1 to 100."));
    }
    let now = app.now();
    let budget = Budget {
        monthly_limit_cents: limit,
        warn_at_percent: body.warn_at_percent,
        hard_cap: body.hard_cap,
        updated_at: now,
    };
    app.store.put_budget(&org, &budget, now).await?;
    let month = period::month_key(now);
    let spent = app.store.month_billable(&org, &month).await?;
    let blocked = app.store.get_account(&org).await?.and_then(|a| a.budget_blocked_period).is_some_and(|m| m == month);
    billing::telemetry::audit(
        &org,
        "budget_updated",
        &format!("limit {limit} cents, warn at {}%, hard cap {}", budget.warn_at_percent, budget.hard_cap),
    );
    ok_json(&BudgetResponse::new(Some(&budget), micros_to_usd(spent), blocked))
}
