//! What no concern owns: authorization, idempotency, the template and OpenAPI contracts,
//! local delivery, schedules and business metrics.

mod access;
mod authorization;
mod business_metrics;
mod idempotency;
mod local_delivery;
mod openapi;
mod schedules;
mod template_contract;
