//! Quota helpers: reserving a run through the store or over HTTP, and the books of an account
//! checked to reconcile after any sequence of operations.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing::quota::store::{QuotaError, Reserved};
use serde_json::json;

use crate::values::{n, org, s};
use crate::{Reply, TestContext, TestServer};

/// Reserves `run_id` of `kind` for the organization through the store, at the context's time.
pub async fn reserve(
    ctx: &TestContext,
    org_name: &str,
    run_id: impl Into<String>,
    kind: RunKind,
) -> Result<Reserved, QuotaError> {
    let request = ReserveRequest { run_id: run_id.into(), kind, estimated_cost_cents: None };
    ctx.app.store.reserve(&org(org_name), &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await
}

/// Reserves a standard run over HTTP as the workflow engine does (with the service token).
pub async fn reserve_over_http(server: &TestServer, org: &str, run: &str) -> Reply {
    let path = format!("/api/billing/internal/quota/{org}/reservations");
    server
        .request("POST", &path, Some(&server.service_token()), Some(json!({ "run_id": run, "kind": "standard" })))
        .await
}

/// An account's starting balances, and the check that everything that happened since
/// reconciles with them.
pub struct Books {
    org: String,
    credits: i64,
    free: u32,
}

impl Books {
    /// Sets the account's tier, credits and free runs (with a card on file) and remembers them.
    pub async fn open(ctx: &TestContext, org: &str, tier: &str, credits: i64, free: u32) -> Self {
        ctx.update_account(
            org,
            "SET tier = :tier, credit_balance_cents = :c, free_remaining = :f, has_payment_method = :pm",
            &[(":tier", s(tier)), (":c", n(credits)), (":f", n(i64::from(free))), (":pm", AttributeValue::Bool(true))],
        )
        .await;
        Self { org: org.to_owned(), credits, free }
    }

    /// Releases whatever is still open, then checks every invariant of the books.
    pub async fn quiesce_and_check(&self, ctx: &TestContext, label: &str) {
        let o = org(&self.org);
        let open: Vec<String> = ctx.stored_account(&self.org).await.holds.keys().cloned().collect();
        for run in open {
            let released = ctx.app.store.release(&o, &run, ctx.app.now()).await;
            assert!(
                matches!(released, Ok(_) | Err(QuotaError::AlreadySettled { .. })),
                "{label}: quiescing {run}: {released:?}"
            );
        }
        let account = ctx.stored_account(&self.org).await;
        let usage = ctx.items_with_prefix("USAGE#").await;
        let ledger: i64 = ctx
            .items_with_prefix("LEDGER#")
            .await
            .iter()
            .map(|e| e["amount_cents"].as_n().unwrap().parse::<i64>().unwrap())
            .sum();
        let count = |bucket: &str| usage.iter().filter(|u| u["bucket"].as_s().unwrap() == bucket).count() as u32;
        let credit_spent: i64 = usage
            .iter()
            .filter(|u| u["bucket"].as_s().unwrap() == "credits")
            .map(|u| u["charged_cents"].as_n().unwrap().parse::<i64>().unwrap())
            .sum();

        assert!(account.holds.is_empty(), "{label}: holds left {:?}", account.holds);
        assert_eq!(account.credit_held_cents, 0, "{label}: nothing held after quiescence: {account:?}");
        assert_eq!(account.credit_balance_cents, self.credits + ledger, "{label}: balance = start + ledger");
        assert_eq!(-ledger, credit_spent, "{label}: ledger = credit usage");
        assert!(account.credit_balance_cents >= 0, "{label}");
        assert_eq!(account.free_remaining + count("free"), self.free, "{label}: free units are used or back");
        assert_eq!(account.period_used, count("subscription"), "{label}: subscription usage = records");
        assert_eq!(u64::try_from(usage.len()).unwrap(), account.total_workflows_completed, "{label}");
        // A run id is charged at most once, and only by the settlement its record names.
        let runs = ctx.items_with_prefix("RUN#").await;
        let mut seen = std::collections::BTreeSet::new();
        for record in &usage {
            let run = record["run_id"].as_s().unwrap();
            assert!(seen.insert(run.clone()), "{label}: run {run} has two usage records");
            let settled = runs.iter().find(|r| r["run_id"].as_s().unwrap() == run).expect("a run record");
            let settlement = settled["settlement"].as_m().unwrap();
            assert_eq!(settlement["outcome"].as_s().unwrap(), "committed", "{label}: {run}");
        }
    }
}
