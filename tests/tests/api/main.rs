//! Integration tests against the local stack. One binary, one module per area.

mod access;
mod accounts;
mod config_and_plans;
mod invoice_collection;
mod invoices;
mod local_delivery;
mod monthly_close;
mod quota;
mod quota_faults;
mod quota_http;
mod quota_safety;
mod stripe_routes;
mod stripe_webhook;
mod template_contract;
mod usage;
