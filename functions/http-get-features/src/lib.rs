//! `GET /api/billing/account/{organization_id}/features` (members) → `FeaturesResponse`:
//! every defined flag, on or off for the organization (its override, else its tier's value,
//! else the default).

use billing::App;
use billing::flags::flow as flags;
use billing::flags::http::FeaturesResponse;
use billing::lambda::HttpResult;
use billing::lambda::http::{authorize_org, ok_json};
use lambda_http::Request;

pub async fn handle(app: App, req: Request) -> HttpResult {
    let (_, org) = authorize_org(&req)?;
    let (tier, evaluated) = flags::features(&app, &org).await?;
    let features = evaluated.into_iter().map(|(name, value)| (name, value.enabled)).collect();
    ok_json(&FeaturesResponse { organization_id: org.to_string(), tier: tier.to_string(), features })
}
