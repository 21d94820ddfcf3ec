//! `POST /api/billing/account/{organization_id}/subscription/reactivate` → undoes a pending
//! cancellation before the period ends (`409 subscription_ended` once it has ended).

use billing::App;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_billing, idempotency_key, idempotent, ok_json};
use billing::subscriptions::flow::manage::{self, Asker};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (caller, org) = authorize_billing(&app, &req)?;
    idempotent(&app, &req, &org, async {
        let key = idempotency_key(&req)?;
        let asker = Asker { user: caller.subject.as_deref().unwrap_or("unknown"), idempotency_key: &key };
        ok_json(&manage::reactivate(&app, &org, asker).await?)
    })
    .await
}
