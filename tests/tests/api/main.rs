//! Integration tests against the local stack. One binary, one module per area.

mod access;
mod accounts;
mod admin;
mod admin_ops;
mod authorization;
mod business_metrics;
mod config_and_plans;
mod dunning;
mod idempotency;
mod invoice_collection;
mod invoices;
mod local_delivery;
mod monthly_close;
mod openapi;
mod quota;
mod quota_faults;
mod quota_http;
mod quota_safety;
mod schedules;
mod stripe_routes;
mod stripe_webhook;
mod subscriptions;
mod template_contract;
mod usage;
