//! `event-notifier` — subscribed to every billing domain event on the bus. Turns each into a
//! notification: always a structured log line (searchable by event type and organization),
//! and a message on the notification SNS topic when one is configured (the template creates
//! it, with an e-mail subscription when `NotificationEmail` is set).

use billing::App;
use billing::events::Envelope;

/// EventBridge delivers the event with the envelope in `detail`.
pub async fn handle(app: App, event: serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let detail = event.get("detail").cloned().unwrap_or(serde_json::Value::Null);
    let envelope: Envelope = serde_json::from_value(detail).map_err(|e| anyhow::anyhow!("not a billing event: {e}"))?;
    let text = notification_text(&envelope);
    tracing::warn!(notification = %text, event = envelope.event.name(), event_id = %envelope.id, org = %envelope.organization_id, "billing notification");
    let mut delivered_to = vec!["log"];
    if let Some(topic) = app.config.notification_topic_arn.as_deref() {
        let message = format!("{text}\n\n{}", serde_json::to_string_pretty(&envelope)?);
        app.sns()
            .publish()
            .topic_arn(topic)
            .subject(format!("Billing: {}", envelope.event.name()))
            .message(message)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("SNS publish failed: {}", aws_sdk_sns::error::DisplayErrorContext(&e)))?;
        delivered_to.push("sns");
    }
    Ok(
        serde_json::json!({ "notified": envelope.event.name(), "event_id": envelope.id, "text": text, "delivered_to": delivered_to }),
    )
}

pub fn notification_text(envelope: &Envelope) -> String {
    use billing::events::DomainEvent::*;
    let org = &envelope.organization_id;
    match &envelope.event {
        CostRecorded { provider, model, total_cost_usd, .. } => {
            format!("{org}: LLM call on {provider}/{model} cost ${total_cost_usd}")
        }
        QuotaExhausted { run_id, .. } => format!("{org}: run {run_id} was refused, no quota or credits left"),
        BudgetWarning { month, spent_usd, limit_usd, warn_at_percent } => {
            format!("{org}: {month} spend ${spent_usd} passed {warn_at_percent}% of the ${limit_usd} budget")
        }
        PaymentFailed { invoice_id, attempt_count, amount_due_usd } => {
            format!("{org}: payment of ${amount_due_usd} for invoice {invoice_id} failed (attempt {attempt_count})")
        }
        AccountSuspended { reason, .. } => format!("{org}: account suspended ({reason})"),
        AccountReactivated { reason } => format!("{org}: account reactivated ({reason})"),
        BudgetExceeded { month, spent_usd, limit_usd, hard_cap } => format!(
            "{org}: {month} spend ${spent_usd} reached the ${limit_usd} budget{}",
            if *hard_cap { "; new runs are blocked" } else { "" }
        ),
        StorageLimitExceeded { used_gb, limit_gb } => {
            format!("{org}: storage in use ({used_gb} GB) is above the plan's {limit_gb} GB")
        }
        InvoiceGenerated { invoice_id, total_usd, line_count } => {
            format!("{org}: invoice {invoice_id} generated, {line_count} lines, total ${total_usd}")
        }
        InvoiceFinalized { invoice_number, amount_due_usd, due_date, .. } => {
            format!("{org}: invoice {invoice_number} issued, ${amount_due_usd} due {}", due_date.format("%Y-%m-%d"))
        }
        InvoicePaid { invoice_id, amount_paid_usd } => format!("{org}: invoice {invoice_id} paid (${amount_paid_usd})"),
        InvoiceOverdue { invoice_id, invoice_number, amount_due_usd, due_date } => format!(
            "{org}: invoice {} is past due (${amount_due_usd} was due {})",
            invoice_number.as_deref().unwrap_or(invoice_id),
            due_date.format("%Y-%m-%d")
        ),
        DunningReminder { invoice_id, invoice_number, offset_days, amount_due_usd, due_date, hosted_invoice_url } => {
            let when = match offset_days {
                d if *d < 0 => format!("is due in {} days", -d),
                0 => "is due today".to_owned(),
                d => format!("is {d} days overdue"),
            };
            let pay = hosted_invoice_url.as_deref().map(|u| format!("; pay at {u}")).unwrap_or_default();
            format!(
                "{org}: reminder: invoice {} (${amount_due_usd}, due {}) {when}{pay}",
                invoice_number.as_deref().unwrap_or(invoice_id),
                due_date.format("%Y-%m-%d")
            )
        }
        FreeQuotaReset { period, free_workflows } => {
            format!("{org}: {free_workflows} free workflows are available for {period}")
        }
        InvoiceVoided { invoice_id, invoice_number, usage_returned, written_off_usd, refunded_credits_usd } => {
            format!(
                "{org}: invoice {} voided; {}${written_off_usd} written off, ${refunded_credits_usd} credits returned",
                invoice_number.as_deref().unwrap_or(invoice_id),
                if *usage_returned { "its usage will be billed again; " } else { "" }
            )
        }
        TrialEnding { tier, trial_end, has_payment_method, .. } => format!(
            "{org}: the {} trial ends {}{}",
            tier.as_deref().unwrap_or("subscription"),
            trial_end.format("%Y-%m-%d"),
            if *has_payment_method { "" } else { "; add a payment method to keep the plan, or it falls back to free" }
        ),
        InvoiceMarkedUncollectible { invoice_id, invoice_number, amount_due_usd } => format!(
            "{org}: invoice {} (${amount_due_usd} due) written off as uncollectible",
            invoice_number.as_deref().unwrap_or(invoice_id)
        ),
    }
}
