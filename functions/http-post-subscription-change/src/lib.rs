//! `POST /api/billing/account/{organization_id}/subscription/change` `{tier}` → the updated
//! `SubscriptionResponse`. An upgrade applies now with proration once paid; a downgrade is
//! scheduled for the period end (`pending_change`).

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotency_key, idempotent, json_body, ok_json};
use billing::purchases::http::ChangeRequest;
use billing::subscriptions::flow::manage::{self, Asker};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let body: ChangeRequest = json_body(&req)?;
        let key = idempotency_key(&req)?;
        let asker = Asker { user: caller.subject.as_deref().unwrap_or("unknown"), idempotency_key: &key };
        ok_json(&manage::change(&app, &org, asker, &body.tier).await?)
    })
    .await
}
