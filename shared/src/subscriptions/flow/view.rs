//! What the customer sees of their subscription and its history.

use rust_decimal::Decimal;

use crate::App;
use crate::ids::OrganizationId;
use crate::subscriptions::http::{PlanChangeResponse, PlanHistoryResponse, Standing, SubscriptionResponse};
use crate::{accounts::store::AccountItem, store::StoreError};

/// The organization's subscription as the frontend shows it (every account has one).
pub async fn subscription(app: &App, org: &OrganizationId) -> Result<SubscriptionResponse, StoreError> {
    let catalog = app.catalog();
    let fresh = AccountItem::new_free(org, app.now(), catalog.free_workflows_per_month(), catalog.free_tier.clone());
    let (account, sub, request, storage, providers, launch) = tokio::try_join!(
        app.store.get_or_create_account(fresh),
        app.store.subscription(org),
        app.store.subscription_request(org),
        app.store.storage_snapshot(org),
        crate::byo_keys::flow::configured_providers(app, org),
        app.store.launch_schedule(org),
    )?;
    let standing = Standing {
        account: &account,
        subscription: sub.as_ref(),
        request: request.as_ref(),
        storage_used_gb: storage.map_or(Decimal::ZERO, |s| s.used_gb),
    };
    let mut response =
        SubscriptionResponse::at(standing, catalog, app.now()).with_launch(launch.as_ref(), catalog, app.now());
    if response.is_byo {
        response.byo_providers_configured = Some(providers);
    }
    Ok(response)
}

/// Every plan change, newest first.
pub async fn history(app: &App, org: &OrganizationId) -> Result<PlanHistoryResponse, StoreError> {
    let changes = app.store.plan_history(org).await?;
    Ok(PlanHistoryResponse {
        organization_id: org.to_string(),
        changes: changes.iter().rev().map(PlanChangeResponse::from).collect(),
    })
}
