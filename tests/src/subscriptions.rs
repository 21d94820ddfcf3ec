//! Subscription helpers: the stored subscription item and the fields its response must carry.

use billing::ids::OrganizationId;

use crate::TestContext;

/// The frontend guide's `SubscriptionResponse`, field for field.
pub const SUBSCRIPTION_RESPONSE_FIELDS: [&str; 24] = [
    "id",
    "organization_id",
    "billing_account_id",
    "tier",
    "status",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "canceled_at",
    "trial_start",
    "trial_end",
    "workflows_limit",
    "workflows_used",
    "workflows_remaining",
    "agents_limit",
    "storage_limit_gb",
    "storage_used_gb",
    "is_lifetime",
    "lifetime_purchase_date",
    "lifetime_purchase_amount",
    "is_byo",
    "byo_providers_configured",
    "created_at",
    "updated_at",
];

/// The organization's subscription item as stored; it must exist.
pub async fn stored_subscription(ctx: &TestContext, org: &str) -> billing::stripe_events::store::SubscriptionItem {
    ctx.app.store.subscription(&OrganizationId::parse(org).unwrap()).await.unwrap().expect("a subscription item")
}
