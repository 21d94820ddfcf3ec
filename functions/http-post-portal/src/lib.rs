//! `POST /api/billing/account/{organization_id}/portal` `{return_url?}` → `{portal_url}`: a
//! Stripe customer portal session (invoices, cards, plan changes, cancellation).

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotent, json_body, ok_json};
use billing::purchases::flow::{ensure_customer, return_urls, stripe};
use billing::purchases::http::{PortalRequest, PortalResponse};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: PortalRequest = if req.body().is_empty() { PortalRequest::default() } else { json_body(&req)? };
        let default = format!("{}/settings/billing", app.config.frontend_url.trim_end_matches('/'));
        let (return_url, _) = return_urls(&app, Some(body.return_url.unwrap_or(default)), None)?;
        let customer = ensure_customer(&app, &org).await?;
        let portal_url = stripe(&app)?.create_portal(&customer, &return_url).await?;
        ok_json(&PortalResponse { portal_url })
    })
    .await
}
