//! Tracing setup, done once per process by the runners; business metrics in [`metrics`].
//!
//! In Lambda (detected by `AWS_LAMBDA_FUNCTION_NAME`) logs are JSON lines so CloudWatch
//! Logs Insights can filter on `request_id` and `org`; locally they are human-readable.
//! `RUST_LOG` overrides the default `info` level.

pub mod metrics;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init_tracing() {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let logs = tracing_subscriber::fmt::layer().with_target(false);
    let subscriber = tracing_subscriber::registry().with(filter);
    let installed = if in_lambda {
        subscriber.with(logs.json().with_current_span(true).without_time()).try_init()
    } else {
        subscriber.with(logs).try_init()
    };
    // The local server and the tests may call this more than once per process; the first wins.
    if installed.is_err() {
        tracing::debug!("tracing was already set up");
    }
}

/// `RUST_LOG` as `target=level` directives (`info,billing=debug,aws_smithy_runtime=warn`).
/// Per-target levels are all a function's logs need, and, unlike span and field filters, they
/// need no regular-expression engine in every binary. A value that does not read falls back to
/// `info` rather than silencing the function.
fn log_filter(directives: Option<&str>) -> Targets {
    directives
        .filter(|d| !d.trim().is_empty())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// An audit line for a state change a customer made: who, what, which organization. (Operators'
/// actions are audited in the table, with their change: `crate::operators::rules::audit`.)
pub fn audit(org: &crate::ids::OrganizationId, action: &str, detail: &str) {
    tracing::info!(audit = true, org = %org, action, detail, "audit");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn rust_log_sets_levels_per_target_over_an_info_default() {
        let unset = log_filter(None);
        assert!(unset.would_enable("billing::store", &Level::INFO));
        assert!(!unset.would_enable("billing::store", &Level::DEBUG));

        let set = log_filter(Some("warn,billing=debug"));
        assert!(set.would_enable("billing::store::quota", &Level::DEBUG));
        assert!(!set.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(set.would_enable("aws_smithy_runtime", &Level::WARN));
    }

    #[test]
    fn an_empty_or_unreadable_rust_log_keeps_the_info_default() {
        for directives in ["", "  ", "billing=loud"] {
            let filter = log_filter(Some(directives));
            assert!(filter.would_enable("billing", &Level::INFO), "{directives:?}");
            assert!(!filter.would_enable("billing", &Level::DEBUG), "{directives:?}");
        }
    }
}
