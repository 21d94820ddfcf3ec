//! `GET /api/billing/admin/accounts?organization_id_prefix&status&tier&stripe_customer_id
//! &billing_email&limit&cursor` (billing-admin) → `[AccountSummary]` in organization-id
//! order, the next page's cursor in `x-next-cursor`. Every filter is optional and all must
//! match. Read from the sharded account directory (`store::directory`): no table scan, no
//! index key shared by every account.

use billing::accounts::rules::AccountStatus;
use billing::ids::is_safe_id;
use billing::lambda::HttpResult;
use billing::lambda::http::list_response;
use billing::operators::http::directory::AccountSummary;
use billing::operators::store::directory::AccountSearch;
use billing::{ApiError, App, auth::Caller};
use lambda_http::{Request, RequestExt};

const MAX_EMAIL_CHARS: usize = 254;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", detail)
}

/// The query's filters, each read by name.
struct Filters<'a> {
    status: Option<&'a str>,
    tier: Option<&'a str>,
    prefix: Option<&'a str>,
    customer: Option<&'a str>,
    email: Option<&'a str>,
}

fn search(app: &App, filters: Filters<'_>) -> Result<AccountSearch, ApiError> {
    let status = match filters.status {
        None => None,
        Some("pending") => Some(AccountStatus::Pending),
        Some("active") => Some(AccountStatus::Active),
        Some("suspended") => Some(AccountStatus::Suspended),
        Some(other) => return Err(invalid(format!("status must be pending, active or suspended, not {other:?}."))),
    };
    if let Some(tier) = filters.tier
        && app.catalog().tier(tier).is_none()
    {
        return Err(invalid(format!("The catalog has no tier {tier:?}.")));
    }
    if filters.prefix.is_some_and(|p| !is_safe_id(p)) {
        return Err(invalid("organization_id_prefix must be 1 to 64 letters, digits, '-' or '_'."));
    }
    if filters.customer.is_some_and(|c| !is_safe_id(c)) {
        return Err(invalid("stripe_customer_id must be a Stripe customer id (cus_…)."));
    }
    let email = filters.email.map(|e| e.trim().to_lowercase());
    if email.as_deref().is_some_and(|e| !e.contains('@') || e.chars().count() > MAX_EMAIL_CHARS) {
        return Err(invalid("billing_email must be an email address."));
    }
    Ok(AccountSearch {
        organization_id_prefix: filters.prefix.map(str::to_owned),
        status,
        tier: filters.tier.map(str::to_owned),
        billing_email: email,
        stripe_customer_id: filters.customer.map(str::to_owned),
    })
}

pub async fn handle(app: App, req: Request) -> HttpResult {
    Caller::from_request(&req)?.require_admin()?;
    let query = req.query_string_parameters_ref();
    let filters = Filters {
        status: query.and_then(|q| q.first("status")),
        tier: query.and_then(|q| q.first("tier")),
        prefix: query.and_then(|q| q.first("organization_id_prefix")),
        customer: query.and_then(|q| q.first("stripe_customer_id")),
        email: query.and_then(|q| q.first("billing_email")),
    };
    let search = search(&app, filters)?;
    let limit = billing::costs::http::parse_limit(query.and_then(|q| q.first("limit")))?;
    let page = app.store.search_accounts(&search, query.and_then(|q| q.first("cursor")), limit).await?;
    let accounts: Vec<AccountSummary> = page.entries.iter().map(AccountSummary::from).collect();
    list_response(&accounts, page.next_cursor)
}
