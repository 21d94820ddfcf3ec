//! Account helpers: the stored account's tier and status, and the paths of its routes.

use crate::TestContext;

/// The account's tier as stored right now.
pub async fn tier(ctx: &TestContext, org: &str) -> String {
    ctx.stored_account(org).await.tier.as_str().to_owned()
}

/// The account's status as stored right now.
pub async fn status(ctx: &TestContext, org: &str) -> String {
    ctx.stored_account(org).await.status.as_str().to_owned()
}

/// The path of one of the organization's account routes: `/api/billing/account/{org}/{rest}`.
pub fn path(org: &str, rest: &str) -> String {
    format!("/api/billing/account/{org}/{rest}")
}
