//! `GET /api/billing/account/{organization_id}/credits` — the prepaid credit balance
//! (available, and held by running workflows) and the 50 most recent ledger entries.

use billing::App;
use billing::domain::money::dollars;
use billing::domain::usage::{LedgerEntry, LedgerKind};
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use chrono::{DateTime, Utc};
use lambda_http::Request;
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Serialize)]
struct LedgerLine {
    id: String,
    kind: LedgerKind,
    #[serde(with = "rust_decimal::serde::float")]
    amount: Decimal,
    reason: String,
    run_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<LedgerEntry> for LedgerLine {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            amount: dollars(e.amount_cents),
            reason: e.reason,
            run_id: e.run_id,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize)]
struct CreditsResponse {
    #[serde(with = "rust_decimal::serde::float")]
    available: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    held: Decimal,
    entries: Vec<LedgerLine>,
}

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_org(&req)?;
    let account = billing::flows::checkout::account(&app, &org).await?;
    let entries = app.store.recent_ledger(&org, 50).await?;
    ok_json(&CreditsResponse {
        available: dollars(account.credit_balance_cents),
        held: dollars(account.credit_held_cents),
        entries: entries.into_iter().map(LedgerLine::from).collect(),
    })
}
