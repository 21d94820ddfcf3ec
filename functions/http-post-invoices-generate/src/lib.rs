//! `POST /api/billing/account/{organization_id}/invoices/generate` — invoices the
//! organization's unbilled usage now: `201` with a new invoice, `200` with the invoice that
//! already covers the same usage (a concurrent or repeated request), `409 nothing_to_invoice`.
//! With an `Idempotency-Key`, a repeat gets the first answer.

use billing::api::invoices::InvoiceResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{audit, authorize_billing, json_response};
use billing::{ApiError, App};
use lambda_http::Request;
use lambda_http::http::StatusCode;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    let key = match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(key)) if (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Some(key.to_owned())
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 200 visible ASCII characters.",
            ));
        }
    };
    if let Some(key) = &key
        && let Some(replay) = app.store.generate_replay(&org, key).await?
    {
        return replayed(&app, &replay).await;
    }
    let (status, invoice_id, result) = match billing::flows::invoicing::generate(&app, &org).await {
        Ok(generated) => {
            let status = if generated.created { StatusCode::CREATED } else { StatusCode::OK };
            (status, generated.invoice.id.clone(), Ok(generated.invoice))
        }
        Err(billing::flows::invoicing::InvoicingError::NothingToInvoice) => {
            (StatusCode::CONFLICT, String::new(), Err(billing::flows::invoicing::InvoicingError::NothingToInvoice))
        }
        Err(other) => return Err(other.into()),
    };
    if let Some(key) = &key {
        let stored = app.store.remember_generate(&org, key, &invoice_id, status.as_u16(), app.now()).await?;
        if stored.invoice_id != invoice_id || stored.status != status.as_u16() {
            // A concurrent request with the same key answered first: answer as it did.
            return replayed(&app, &stored).await;
        }
    }
    let invoice = result?;
    if status == StatusCode::CREATED {
        audit(&org, "invoice_generated", &invoice.id);
    }
    json_response(status, &InvoiceResponse::from(&invoice))
}

async fn replayed(app: &App, replay: &billing::store::invoicing::GenerateReplay) -> HttpResult {
    if replay.status == StatusCode::CONFLICT.as_u16() {
        return Err(billing::flows::invoicing::InvoicingError::NothingToInvoice.into());
    }
    let invoice =
        app.store.invoice_by_id(&replay.invoice_id).await?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("remembered invoice {} is missing", replay.invoice_id))
        })?;
    let status = StatusCode::from_u16(replay.status).unwrap_or(StatusCode::OK);
    json_response(status, &InvoiceResponse::from(&invoice))
}
