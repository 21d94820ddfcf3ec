//! `GET /api/billing/account/{organization_id}/credits` — the prepaid credit balance
//! (available, and held by running workflows) and the 50 most recent ledger entries.

use billing::App;
use billing::credits::http::{CreditsResponse, LedgerLine};
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use billing::money::dollars;
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let account = billing::purchases::flow::account(&app, &org).await?;
    let entries = app.store.recent_ledger(&org, 50).await?;
    ok_json(&CreditsResponse {
        available: dollars(account.credit_balance_cents),
        held: dollars(account.credit_held_cents),
        entries: entries.into_iter().map(LedgerLine::from).collect(),
    })
}
