//! Usage from the workflow engine: LLM call costs (with budgets and their events) and the
//! queue's run outcomes, which settle reservations exactly like the HTTP routes do.

use crate::App;
use crate::costs::rules::budget::Threshold;
use crate::costs::rules::{CostRecord, Micros, billable, micros_to_usd, usd_to_micros};
use crate::events::{DomainEvent, Envelope};
use crate::ids::is_safe_id;
use crate::messages::MessageError;
use crate::money::usd::amount_to_cents;
use crate::quota::rules::Reporter;
use crate::quota::store::QuotaError;
use crate::usage::rules::RunDetails;
use crate::usage::rules::message::{LlmCall, UsageMessage, is_model_name};
use crate::{ids::OrganizationId, period};

/// Applies one usage-queue message.
pub async fn apply(app: &App, message: UsageMessage) -> Result<(), MessageError> {
    let org = message.organization_id().clone();
    tracing::Span::current().record("org", org.as_str());
    match message {
        UsageMessage::RunCompleted { event_id, run_id, actual_cost_usd, overage_approved, details, .. } => {
            check_id("event_id", &event_id)?;
            check_id("run_id", &run_id)?;
            let actual = actual_cost_usd
                .map(|usd| amount_to_cents("actual_cost_usd", usd))
                .transpose()
                .map_err(MessageError::Reject)?;
            // The run happened: details that cannot be kept must not make it free.
            let details = details.map(|d| match RunDetails::check(&d) {
                Ok(()) => d,
                Err(reason) => {
                    tracing::warn!(run_id = %run_id, %reason, "run details dropped");
                    serde_json::json!({ "dropped": reason })
                }
            });
            let reporter = Reporter::Queue { overage_approved, catalog: app.catalog() };
            let committed = app.store.commit(&org, &run_id, actual, reporter, details, app.now()).await;
            settle_outcome(committed.map(|_| ()))
        }
        UsageMessage::RunFailed { event_id, run_id, .. } | UsageMessage::RunCancelled { event_id, run_id, .. } => {
            check_id("event_id", &event_id)?;
            check_id("run_id", &run_id)?;
            settle_outcome(app.store.release(&org, &run_id, app.now()).await.map(|_| ()))
        }
        UsageMessage::LlmCall(call) => {
            check_id("event_id", &call.event_id)?;
            if let Some(run_id) = &call.run_id {
                check_id("run_id", run_id)?;
            }
            if !is_model_name(&call.provider) || !is_model_name(&call.model) {
                return Err(MessageError::Reject(
                    "provider and model must be 1 to 64 of letters, digits and - _ . : /".into(),
                ));
            }
            record_llm_call(app, &org, call).await.map(|_| ())
        }
        UsageMessage::StorageSnapshot { used_gb, recorded_at, .. } => {
            record_storage(app, &org, used_gb, recorded_at).await
        }
    }
}

/// Keeps the latest storage snapshot (an older or repeated one changes nothing) and
/// announces `StorageLimitExceeded` when usage crosses the plan's limit from below.
async fn record_storage(
    app: &App,
    org: &OrganizationId,
    used_gb: rust_decimal::Decimal,
    recorded_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), MessageError> {
    if used_gb.is_sign_negative() {
        return Err(MessageError::Reject(format!("used_gb must not be negative, got {used_gb}")));
    }
    let retry = |e: crate::store::StoreError| MessageError::Retry(e.into());
    let (account, previous) =
        tokio::try_join!(app.store.get_account(org), app.store.storage_snapshot(org)).map_err(retry)?;
    let catalog = app.catalog();
    let limit = match &account {
        Some(a) => {
            let tier = catalog.tier(a.tier.as_str()).unwrap_or_else(|| catalog.free_tier());
            crate::accounts::rules::limits::in_force(tier, &a.limit_overrides, recorded_at).storage_gb
        }
        None => catalog.free_tier().storage_gb.finite(),
    };
    let over = limit.is_some_and(|l| used_gb > rust_decimal::Decimal::from(l));
    let was_over = previous.as_ref().is_some_and(|p| p.over_limit);
    let crossing = match limit {
        Some(limit_gb) if over && !was_over => Some(Envelope::new(
            format!("storage-{org}-{}", recorded_at.timestamp_millis()),
            org,
            recorded_at,
            DomainEvent::StorageLimitExceeded { used_gb, limit_gb },
        )),
        _ => None,
    };
    let snapshot = crate::subscriptions::store::StorageSnapshot::new(org, used_gb, recorded_at, over);
    let stored = app.store.record_storage_snapshot(&snapshot, crossing.as_ref(), app.now()).await.map_err(retry)?;
    tracing::info!(org = %org, %used_gb, over, stored, announced = stored && crossing.is_some(), "storage snapshot");
    Ok(())
}

fn check_id(field: &str, value: &str) -> Result<(), MessageError> {
    if is_safe_id(value) { Ok(()) } else { Err(MessageError::Reject(format!("{field} {value:?} is not a valid id"))) }
}

/// Settling errors that no retry can fix are rejections; the rest are retried.
fn settle_outcome(result: Result<(), QuotaError>) -> Result<(), MessageError> {
    match result {
        Ok(()) => Ok(()),
        Err(err @ (QuotaError::NotFound(_) | QuotaError::AlreadySettled { .. } | QuotaError::ExceedsHold(_))) => {
            Err(MessageError::Reject(err.to_string()))
        }
        Err(err @ QuotaError::Refused(_)) => Err(MessageError::Reject(err.to_string())),
        Err(err @ (QuotaError::Contended | QuotaError::Store(_))) => Err(MessageError::Retry(err.into())),
    }
}

/// Records a call's cost once with its `CostRecorded` announcement, and fires budget thresholds.
pub async fn record_llm_call(app: &App, org: &OrganizationId, call: LlmCall) -> Result<CostRecord, MessageError> {
    let (prompt_cost, completion_cost, priced_by) = match (call.prompt_cost_usd, call.completion_cost_usd) {
        (None, None) => {
            let (p, c) = app
                .config
                .model_prices
                .price(&call.provider, &call.model, call.prompt_tokens, call.completion_tokens)
                .ok_or_else(|| {
                    MessageError::Reject(format!("no costs given and no price for {}/{}", call.provider, call.model))
                })?;
            (p, c, "price_table")
        }
        (p, c) => {
            let (p, c) = (p.unwrap_or_default(), c.unwrap_or_default());
            if p.is_sign_negative() || c.is_sign_negative() {
                return Err(MessageError::Reject("costs must not be negative".into()));
            }
            (usd_to_micros(p), usd_to_micros(c), "reported")
        }
    };
    let account = app.store.get_account(org).await.map_err(|e| MessageError::Retry(e.into()))?;
    let record = CostRecord {
        pk: format!("ORG#{org}"),
        sk: CostRecord::sort_key(call.recorded_at, &call.event_id),
        id: call.event_id.clone(),
        organization_id: org.clone(),
        billing_account_id: account.map(|a| a.id),
        run_id: call.run_id,
        agent_id: call.agent_id,
        sandbox_id: call.sandbox_id,
        provider: call.provider,
        model: call.model,
        prompt_tokens: call.prompt_tokens,
        completion_tokens: call.completion_tokens,
        prompt_cost_micros: prompt_cost,
        completion_cost_micros: completion_cost,
        billable_micros: billable(prompt_cost + completion_cost, call.payer, app.config.margin_percent),
        payer: call.payer,
        priced_by: priced_by.to_owned(),
        recorded_at: call.recorded_at,
    };
    // Announced with the record, in its transaction: published by the outbox stream if and
    // only if the record was written, so neither a crash nor a failed PutEvents loses it, and
    // a redelivery (the record exists) announces nothing twice.
    let event = DomainEvent::CostRecorded {
        cost_record_id: record.id.clone(),
        run_id: record.run_id.clone(),
        provider: record.provider.clone(),
        model: record.model.clone(),
        total_cost_usd: micros_to_usd(record.total_cost_micros()),
        billable_usd: micros_to_usd(record.billable_micros),
        payer: serde_json::to_value(record.payer).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
    };
    let envelope = Envelope::new(format!("cost-{}", record.id), org, record.recorded_at, event);
    let (created, month_billable) =
        app.store.record_cost(&record, &envelope, app.now()).await.map_err(|e| MessageError::Retry(e.into()))?;
    if !created {
        tracing::info!(event_id = %record.id, "cost already recorded; checking its follow-ups only");
    }
    if record.billable_micros > 0 || !created {
        check_budget(app, org, &period::month_key(record.recorded_at), month_billable).await?;
    }
    Ok(record)
}

/// Fires each budget threshold that `spent` has reached, once per month, and applies the
/// hard cap. Each threshold's mark and its announcement are one write (the outbox).
pub async fn check_budget(app: &App, org: &OrganizationId, month: &str, spent: Micros) -> Result<(), MessageError> {
    let retry = |e: crate::store::StoreError| MessageError::Retry(e.into());
    let Some(budget) = app.store.get_budget(org).await.map_err(retry)? else {
        return Ok(());
    };
    let reached = budget.reached(spent);
    if budget.hard_cap && reached.contains(&Threshold::Exceeded) && month == period::month_key(app.now()) {
        app.store.set_budget_block(org, Some(month)).await.map_err(retry)?;
    }
    for threshold in reached {
        let (spent_usd, limit_usd) = (micros_to_usd(spent), crate::money::dollars(budget.monthly_limit_cents));
        let event = match threshold {
            Threshold::Warning => DomainEvent::BudgetWarning {
                month: month.to_owned(),
                spent_usd,
                limit_usd,
                warn_at_percent: budget.warn_at_percent,
            },
            Threshold::Exceeded => {
                DomainEvent::BudgetExceeded { month: month.to_owned(), spent_usd, limit_usd, hard_cap: budget.hard_cap }
            }
        };
        let envelope = Envelope::new(format!("budget-{org}-{month}-{}", threshold.as_str()), org, app.now(), event);
        app.store.mark_threshold(org, month, threshold, &envelope, app.now()).await.map_err(retry)?;
    }
    Ok(())
}
