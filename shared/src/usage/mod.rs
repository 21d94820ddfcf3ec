//! Usage from the workflow engine: one usage record per committed run, the per-day run
//! aggregates behind the charts, and the usage queue's consumer (LLM costs, budgets).
//!
//! # Layout
//!
//! - [`rules`] — usage records and ledger entries;
//! - [`store`] — per-day aggregates (`COSTAGG#<day>#~runs`);
//! - [`flow`] — the usage queue's messages: LLM call costs, budget marks and their events;
//! - [`http`] — the daily series (`GET .../usage/daily`).
//!
//! Functions: sqs-usage-events, http-get-usage-daily, http-post-reservation-commit.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
