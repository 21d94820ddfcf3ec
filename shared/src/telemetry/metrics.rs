//! Business metrics, written as CloudWatch embedded metric format (EMF) log lines.
//!
//! Code counts through the small functions below (never raw names), so every metric name and
//! dimension lives here. Every metric carries one dimension set by the runner, `FunctionName`
//! (the Lambda function's name, as in `AWS/Lambda`); a few add one more with a fixed, small set
//! of values (`reason`, `outcome`). Dimension values are `&'static str` on purpose: an
//! organization id or anything else per-customer cannot become a dimension (each distinct
//! value is a billed CloudWatch metric).
//!
//! The runners install the recorder once per process ([`install`]) and write what was counted
//! at the end of every invocation ([`flush`]), before Lambda gets the answer, so nothing waits
//! in memory for an invocation that may never come. Without an installed recorder (the local
//! server, tests) counting costs nothing and writes nothing; tests may install their own.

use std::io::Write;
use std::sync::OnceLock;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::Collector;

use crate::quota::rules::{Outcome, Refusal};

/// Environment variable naming the CloudWatch namespace (template: `MetricsNamespace`).
pub const NAMESPACE_ENV: &str = "METRICS_NAMESPACE";
/// Namespace when [`NAMESPACE_ENV`] is unset.
pub const DEFAULT_NAMESPACE: &str = "Billing";
/// The dimension every metric carries: the function that counted it.
pub const FUNCTION_DIMENSION: &str = "FunctionName";
/// Dimension of [`RESERVATIONS_REFUSED`]: the refusal's error code.
pub const REASON: &str = "reason";
/// Dimension of [`HOLDS_SETTLED`]: `committed`, `released` or `expired`.
pub const OUTCOME: &str = "outcome";

/// New holds granted by reserve (a repeated run id answered with its hold is not counted).
pub const RESERVATIONS_GRANTED: &str = "ReservationsGranted";
/// Reserves refused, by `reason` (`quota_exhausted`, `concurrency_limit`, `account_suspended`,
/// `budget_exceeded`), and once more without `reason`: the total the refusal alarm watches.
/// Dry runs are not counted.
pub const RESERVATIONS_REFUSED: &str = "ReservationsRefused";
/// Holds settled, by `outcome`: `committed`, `released`, or `expired` (by the sweep, or by a
/// reserve freeing a slot). Counted once per hold, by whoever decided it.
pub const HOLDS_SETTLED: &str = "HoldsSettled";
/// Seconds from a Stripe event's `created` to the end of its processing (`sqs-stripe-events`).
pub const STRIPE_EVENT_LAG: &str = "StripeEventLagSeconds";
/// Usage invoices priced (the `InvoiceGenerated` event), once per invoice.
pub const INVOICES_GENERATED: &str = "InvoicesGenerated";
/// Usage invoices that became paid (the `InvoicePaid` event: through Stripe, the pay route,
/// or issued at $0), once per invoice.
pub const INVOICES_PAID: &str = "InvoicesPaid";
/// Queue messages that went to a dead-letter queue: rejected ones the consumer copied there,
/// and ones that failed on their last receive (SQS's redrive moves them).
pub const DEAD_LETTERED: &str = "DeadLettered";

pub fn reservation_granted() {
    counter!(RESERVATIONS_GRANTED).increment(1);
}

pub fn reservation_refused(refusal: &Refusal) {
    counter!(RESERVATIONS_REFUSED, REASON => refusal.code()).increment(1);
    counter!(RESERVATIONS_REFUSED).increment(1);
}

pub fn hold_settled(outcome: Outcome) {
    counter!(HOLDS_SETTLED, OUTCOME => outcome.as_str()).increment(1);
}

/// A Stripe event finished processing `lag` after Stripe created it.
pub fn stripe_event_processed(lag: chrono::Duration) {
    // Clock skew can make a fresh event look a little early: that is no lag.
    let millis = lag.num_milliseconds().max(0);
    // Whole milliseconds fit an f64 exactly far beyond any real lag.
    histogram!(STRIPE_EVENT_LAG).record(millis as f64 / 1000.0);
}

pub fn invoice_generated() {
    counter!(INVOICES_GENERATED).increment(1);
}

pub fn invoice_paid() {
    counter!(INVOICES_PAID).increment(1);
}

pub fn dead_lettered() {
    counter!(DEAD_LETTERED).increment(1);
}

/// Where the metrics go and under which function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub namespace: String,
    pub function: String,
}

impl Settings {
    /// From the environment: [`NAMESPACE_ENV`] and Lambda's `AWS_LAMBDA_FUNCTION_NAME`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Self {
            namespace: get(NAMESPACE_ENV).unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            function: get("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("the metrics recorder could not be installed: {0}")]
    Install(String),
}

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the EMF recorder as the process's metrics recorder. Once per process: a second
/// call (or another recorder already installed) is an error and changes nothing.
pub fn install(settings: &Settings) -> Result<(), MetricsError> {
    if COLLECTOR.get().is_some() {
        return Err(MetricsError::Install("already installed".to_owned()));
    }
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(settings.namespace.clone())
        .with_dimension(FUNCTION_DIMENSION, settings.function.clone())
        .init()
        .map_err(|e| MetricsError::Install(e.to_string()))?;
    // Units end up in the EMF documents (and on the CloudWatch metrics).
    for name in [RESERVATIONS_GRANTED, RESERVATIONS_REFUSED, HOLDS_SETTLED, INVOICES_GENERATED, INVOICES_PAID] {
        describe_counter!(name, Unit::Count, "");
    }
    describe_counter!(DEAD_LETTERED, Unit::Count, "");
    describe_histogram!(STRIPE_EVENT_LAG, Unit::Seconds, "");
    let _ = COLLECTOR.set(collector);
    Ok(())
}

/// Writes what was counted since the last flush as EMF documents (one JSON line per dimension
/// set) and resets the counters. Nothing is written when nothing was counted.
pub fn flush_into(writer: &mut impl Write) -> std::io::Result<()> {
    match COLLECTOR.get() {
        Some(collector) => collector.flush(writer),
        None => Ok(()),
    }
}

/// [`flush_into`] standard output, where Lambda's log capture picks the documents up. The
/// documents are written at once so no log line from another task lands inside one.
pub fn flush() {
    let mut documents = Vec::new();
    if let Err(err) = flush_into(&mut documents) {
        tracing::warn!(error = %err, "metrics could not be serialized");
        return;
    }
    if documents.is_empty() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_all(&documents).and_then(|()| stdout.flush()) {
        tracing::warn!(error = %err, "metrics could not be written");
    }
}

#[cfg(test)]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::*;

    /// Every counter as `(name, labels, value)`, labels as `k=v`, sorted.
    fn counted(f: impl FnOnce()) -> Vec<(String, Vec<String>, u64)> {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, f);
        let mut seen: Vec<_> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| match value {
                DebugValue::Counter(n) => {
                    let (name, labels) = key.key().clone().into_parts();
                    let labels = labels.iter().map(|l| format!("{}={}", l.key(), l.value())).collect();
                    Some((name.as_str().to_owned(), labels, n))
                }
                _ => None,
            })
            .collect();
        seen.sort();
        seen
    }

    #[test]
    fn a_refusal_counts_under_its_reason_and_in_the_total() {
        let seen = counted(|| {
            reservation_refused(&Refusal::Exhausted);
            reservation_refused(&Refusal::Exhausted);
            reservation_refused(&Refusal::ConcurrencyFull { limit: 2, retry_after_secs: 5 });
        });
        assert_eq!(
            seen,
            [
                ("ReservationsRefused".to_owned(), vec![], 3),
                ("ReservationsRefused".to_owned(), vec!["reason=concurrency_limit".to_owned()], 1),
                ("ReservationsRefused".to_owned(), vec!["reason=quota_exhausted".to_owned()], 2),
            ]
        );
    }

    #[test]
    fn settlements_count_by_outcome() {
        let seen = counted(|| {
            hold_settled(Outcome::Committed);
            hold_settled(Outcome::Expired);
            hold_settled(Outcome::Committed);
        });
        assert_eq!(
            seen,
            [
                ("HoldsSettled".to_owned(), vec!["outcome=committed".to_owned()], 2),
                ("HoldsSettled".to_owned(), vec!["outcome=expired".to_owned()], 1),
            ]
        );
    }

    #[test]
    fn the_namespace_defaults_to_billing_and_the_function_comes_from_lambda() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let default = Settings::from_lookup(env(&[("AWS_LAMBDA_FUNCTION_NAME", "billing-Reserve-1A")]));
        assert_eq!(default, Settings { namespace: "Billing".into(), function: "billing-Reserve-1A".into() });
        let set = Settings::from_lookup(env(&[("METRICS_NAMESPACE", "Billing/staging"), ("METRICS_NAMESPACE_X", "")]));
        assert_eq!(set.namespace, "Billing/staging");
        assert_eq!(Settings::from_lookup(env(&[("METRICS_NAMESPACE", " ")])).namespace, "Billing");
    }
}
