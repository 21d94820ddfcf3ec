//! `POST /api/billing/admin/accounts/{organization_id}/credits` `{amount_usd, reason}`
//! (billing-admin; `Idempotency-Key` required) → `CreditGrantResponse`. A negative amount
//! removes credits, never below what running workflows hold (`409 insufficient_credits`).
//! Ledger entry of kind `grant` naming the operator and the reason; audited.

use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_admin, idempotent, json_body, ok_json};
use billing::money::dollars;
use billing::operators::flow::{self as admin, Operator};
use billing::operators::http::{CreditGrantRequest, CreditGrantResponse};
use billing::quota::http::amount_to_cents;
use billing::{ApiError, App};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_admin(&req)?;
    let key =
        req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned).ok_or_else(|| {
            ApiError::bad_request("idempotency_key_required", "Send an Idempotency-Key with every grant.")
        })?;
    idempotent(&app, &req, &org, async {
        let body: CreditGrantRequest = json_body(&req)?;
        let cents = amount_to_cents("amount_usd", body.amount_usd.abs())
            .map_err(|detail| ApiError::bad_request("invalid_amount", detail))?;
        let signed = if body.amount_usd.is_sign_negative() { -cents } else { cents };
        let operator = Operator { subject: caller.subject.as_deref().unwrap_or("unknown") };
        let granted = admin::grant_credits(&app, &org, operator, signed, &key, body.reason.as_deref()).await?;
        ok_json(&CreditGrantResponse {
            organization_id: org.to_string(),
            amount_usd: dollars(granted.amount_cents),
            available_usd: dollars(granted.available_cents),
            held_usd: dollars(granted.held_cents),
            ledger_entry_id: granted.ledger_entry_id,
        })
    })
    .await
}
