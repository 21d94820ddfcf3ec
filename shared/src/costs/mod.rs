//! LLM call costs: the model price table, cost records and their aggregates, and monthly
//! budgets (a limit, a warning threshold, their marks).
//!
//! # Layout
//!
//! - [`rules`] — pricing (`mod.rs`, data in `shared/catalog/model_prices.json`) and budgets (`budget`);
//! - [`store`] — cost records, aggregates, budgets, threshold marks, the usage and cost lists;
//! - [`http`] — usage, cost and budget shapes, list filters.
//!
//! Functions: http-get-costs, http-get-cost-summary, http-get/put-budget, sqs-usage-events.

pub mod http;
pub mod rules;
pub mod store;
