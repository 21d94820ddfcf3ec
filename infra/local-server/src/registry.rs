//! Every function package's handler, by binary name. The template names a function by its
//! binary; this table is how the local server finds the code behind it. A test checks that
//! this table, the template and `functions/` list the same functions.

use std::collections::BTreeMap;
use std::sync::Arc;

use billing::lambda::{HttpHandler, ScheduleHandler, SqsHandler, StreamHandler};

pub fn http_handlers() -> BTreeMap<&'static str, Arc<dyn HttpHandler>> {
    let handlers: [(&'static str, Arc<dyn HttpHandler>); 60] = [
        ("http-get-openapi", Arc::new(http_get_openapi::handle)),
        ("http-get-config", Arc::new(http_get_config::handle)),
        ("http-get-plans", Arc::new(http_get_plans::handle)),
        ("http-get-account", Arc::new(http_get_account::handle)),
        ("http-get-quota", Arc::new(http_get_quota::handle)),
        ("http-post-reservation", Arc::new(http_post_reservation::handle)),
        ("http-post-reservation-heartbeat", Arc::new(http_post_reservation_heartbeat::handle)),
        ("http-post-reservation-commit", Arc::new(http_post_reservation_commit::handle)),
        ("http-post-reservation-release", Arc::new(http_post_reservation_release::handle)),
        ("http-get-usage", Arc::new(http_get_usage::handle)),
        ("http-get-costs", Arc::new(http_get_costs::handle)),
        ("http-get-cost-summary", Arc::new(http_get_cost_summary::handle)),
        ("http-get-usage-daily", Arc::new(http_get_usage_daily::handle)),
        ("http-get-export", Arc::new(http_get_export::handle)),
        ("http-get-budget", Arc::new(http_get_budget::handle)),
        ("http-put-budget", Arc::new(http_put_budget::handle)),
        ("webhook-stripe", Arc::new(webhook_stripe::handle)),
        ("http-post-credits-checkout", Arc::new(http_post_credits_checkout::handle)),
        ("http-post-pack-checkout", Arc::new(http_post_pack_checkout::handle)),
        ("http-post-lifetime-checkout", Arc::new(http_post_lifetime_checkout::handle)),
        ("http-post-subscription-checkout", Arc::new(http_post_subscription_checkout::handle)),
        ("http-get-subscription", Arc::new(http_get_subscription::handle)),
        ("http-get-subscription-history", Arc::new(http_get_subscription_history::handle)),
        ("http-get-subscription-preview", Arc::new(http_get_subscription_preview::handle)),
        ("http-post-subscription-cancel", Arc::new(http_post_subscription_cancel::handle)),
        ("http-post-subscription-reactivate", Arc::new(http_post_subscription_reactivate::handle)),
        ("http-post-subscription-change", Arc::new(http_post_subscription_change::handle)),
        ("http-post-portal", Arc::new(http_post_portal::handle)),
        ("http-get-credits", Arc::new(http_get_credits::handle)),
        ("http-post-payment-method", Arc::new(http_post_payment_method::handle)),
        ("http-post-payment-method-checkout", Arc::new(http_post_payment_method_checkout::handle)),
        ("http-get-payment-methods", Arc::new(http_get_payment_methods::handle)),
        ("http-delete-payment-method", Arc::new(http_delete_payment_method::handle)),
        ("http-get-invoices", Arc::new(http_get_invoices::handle)),
        ("http-get-invoice", Arc::new(http_get_invoice::handle)),
        ("http-post-invoice-pay", Arc::new(http_post_invoice_pay::handle)),
        ("http-post-invoices-generate", Arc::new(http_post_invoices_generate::handle)),
        ("http-post-admin-suspend", Arc::new(http_post_admin_suspend::handle)),
        ("http-post-admin-unsuspend", Arc::new(http_post_admin_unsuspend::handle)),
        ("http-get-admin-audit", Arc::new(http_get_admin_audit::handle)),
        ("http-post-admin-credits", Arc::new(http_post_admin_credits::handle)),
        ("http-put-admin-limits", Arc::new(http_put_admin_limits::handle)),
        ("http-get-admin-health", Arc::new(http_get_admin_health::handle)),
        ("http-post-admin-queue-redrive", Arc::new(http_post_admin_queue_redrive::handle)),
        ("http-post-admin-promo-code-deactivate", Arc::new(http_post_admin_promo_code_deactivate::handle)),
        ("http-get-admin-promo-codes", Arc::new(http_get_admin_promo_codes::handle)),
        ("http-post-admin-promo-code", Arc::new(http_post_admin_promo_code::handle)),
        ("http-get-internal-byo-key", Arc::new(http_get_internal_byo_key::handle)),
        ("http-delete-byo-key", Arc::new(http_delete_byo_key::handle)),
        ("http-get-byo-keys", Arc::new(http_get_byo_keys::handle)),
        ("http-put-byo-key", Arc::new(http_put_byo_key::handle)),
        ("http-post-admin-invoice-uncollectible", Arc::new(http_post_admin_invoice_uncollectible::handle)),
        ("http-post-admin-invoice-void", Arc::new(http_post_admin_invoice_void::handle)),
        ("http-get-admin-account", Arc::new(http_get_admin_account::handle)),
        ("http-get-admin-accounts", Arc::new(http_get_admin_accounts::handle)),
        ("http-get-features", Arc::new(http_get_features::handle)),
        ("http-put-admin-account-flag", Arc::new(http_put_admin_account_flag::handle)),
        ("http-put-admin-flag", Arc::new(http_put_admin_flag::handle)),
        ("http-get-admin-flag", Arc::new(http_get_admin_flag::handle)),
        ("http-get-admin-flags", Arc::new(http_get_admin_flags::handle)),
    ];
    handlers.into_iter().collect()
}

pub fn schedule_handlers() -> BTreeMap<&'static str, Arc<dyn ScheduleHandler>> {
    let handlers: [(&'static str, Arc<dyn ScheduleHandler>); 3] = [
        ("cron-expire-holds", Arc::new(cron_expire_holds::handle)),
        ("cron-monthly-close", Arc::new(cron_monthly_close::handle)),
        ("cron-overdue-invoices", Arc::new(cron_overdue_invoices::handle)),
    ];
    handlers.into_iter().collect()
}

pub fn sqs_handlers() -> BTreeMap<&'static str, Arc<dyn SqsHandler>> {
    let handlers: [(&'static str, Arc<dyn SqsHandler>); 3] = [
        ("sqs-usage-events", Arc::new(sqs_usage_events::handle)),
        ("sqs-stripe-events", Arc::new(sqs_stripe_events::handle)),
        ("sqs-account-close", Arc::new(sqs_account_close::handle)),
    ];
    handlers.into_iter().collect()
}

/// Subscribers of domain events (EventBridge rule targets).
pub fn event_handlers() -> BTreeMap<&'static str, Arc<dyn ScheduleHandler>> {
    let handlers: [(&'static str, Arc<dyn ScheduleHandler>); 1] =
        [("event-notifier", Arc::new(event_notifier::handle))];
    handlers.into_iter().collect()
}

/// Consumers of the table's stream (DynamoDB event sources).
pub fn stream_handlers() -> BTreeMap<&'static str, Arc<dyn StreamHandler>> {
    let handlers: [(&'static str, Arc<dyn StreamHandler>); 1] = [("stream-outbox", Arc::new(stream_outbox::handle))];
    handlers.into_iter().collect()
}

/// Binary names of every function the local server can run, whatever its trigger.
pub fn all_binaries() -> Vec<&'static str> {
    http_handlers()
        .into_keys()
        .chain(schedule_handlers().into_keys())
        .chain(sqs_handlers().into_keys())
        .chain(event_handlers().into_keys())
        .chain(stream_handlers().into_keys())
        .collect()
}
