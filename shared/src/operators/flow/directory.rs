//! The operators' view of accounts: the directory search and one account in full, read
//! concurrently from the items that make it up.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::App;
use crate::costs::http::BudgetResponse;
use crate::costs::rules::micros_to_usd;
use crate::costs::store::Listing;
use crate::credits::http::LedgerLine;
use crate::invoicing::http::{CreditNoteResponse, InvoiceResponse};
use crate::money::dollars;
use crate::operators::flow::AdminError;
use crate::operators::http::AuditEntryResponse;
use crate::operators::http::directory::{AccountDetailResponse, AccountState, FlagValue, OpenHold};
use crate::quota::rules::Hold;
use crate::{accounts::rules::limits, flags::rules as flags, ids::OrganizationId, period};

const RECENT_LEDGER: i32 = 20;
const RECENT: usize = 10;
const RECENT_NOTES: i32 = 10;

fn recent() -> Listing {
    Listing { from: None, to: None, limit: RECENT, cursor: None }
}

fn open_hold(run_id: String, hold: &Hold) -> OpenHold {
    OpenHold {
        run_id,
        kind: hold.kind,
        bucket: hold.bucket,
        amount_usd: dollars(hold.amount_cents),
        created_at: hold.created_at,
        expires_at: DateTime::<Utc>::from_timestamp(hold.expires_at, 0).unwrap_or(hold.created_at),
    }
}

/// Everything about one account; `NoAccount` when the organization has none.
pub async fn account_detail(app: &App, org: &OrganizationId) -> Result<AccountDetailResponse, AdminError> {
    let account = app.store.get_account(org).await?.ok_or(AdminError::NoAccount)?;
    let standing = app.store.standing(org).await?;
    let month = period::month_key(app.now());
    let (subscription, run_holds, ledger, invoices, notes, budget, spent, defined, overrides, audit) = tokio::try_join!(
        async { crate::subscriptions::flow::view::subscription(app, org).await.map_err(AdminError::from) },
        async { app.store.open_run_holds(org).await.map_err(AdminError::from) },
        async { app.store.recent_ledger(org, RECENT_LEDGER).await.map_err(AdminError::from) },
        async { app.store.list_invoices(org, None, &recent()).await.map_err(AdminError::from) },
        async { app.store.recent_credit_notes(org, RECENT_NOTES).await.map_err(AdminError::from) },
        async { app.store.get_budget(org).await.map_err(AdminError::from) },
        async { app.store.month_billable(org, &month).await.map_err(AdminError::from) },
        async { app.store.list_flags().await.map_err(AdminError::from) },
        async { app.store.organization_flags(org).await.map_err(AdminError::from) },
        async { app.store.list_audit(org, &recent()).await.map_err(AdminError::from) },
    )?;
    let catalog = app.catalog();
    let tier = catalog.tier(account.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
    let (run_holds, open_holds_complete) = run_holds;
    let mut open_holds: Vec<OpenHold> = account.holds.iter().map(|(run, hold)| open_hold(run.clone(), hold)).collect();
    open_holds.extend(run_holds.into_iter().map(|(run, hold)| open_hold(run, &hold)));
    let evaluated = flags::evaluate_all(&defined, &account.tier, &overrides.flags);
    let blocked = account.budget_blocked_period.as_deref() == Some(month.as_str());
    Ok(AccountDetailResponse {
        account: AccountState::from(&account),
        suspension_reason: standing.as_ref().and_then(|s| s.suspension_reason.clone()),
        suspension_note: standing.and_then(|s| s.suspension_note),
        subscription,
        limits: limits::in_force(tier, &account.limit_overrides, app.now()),
        overrides: account.limit_overrides,
        open_holds,
        open_holds_complete,
        recent_ledger: ledger.into_iter().map(LedgerLine::from).collect(),
        recent_invoices: invoices.items.iter().map(InvoiceResponse::from).collect(),
        credit_notes: notes.iter().map(CreditNoteResponse::from).collect(),
        budget: BudgetResponse::new(budget.as_ref(), micros_to_usd(spent), blocked),
        flags: evaluated
            .into_iter()
            .map(|(name, v)| (name, FlagValue { enabled: v.enabled, source: v.source }))
            .collect::<BTreeMap<_, _>>(),
        flag_overrides: overrides.flags,
        recent_audit: audit.items.iter().map(AuditEntryResponse::from).collect(),
    })
}
