//! Chasing unpaid invoices: reminders around the due date, retries, and suspension for
//! non-payment, lifted once nothing is overdue.
//!
//! # Layout
//!
//! - [`rules`] — the dunning ladder;
//! - [`store`] — the dunning list (`mod.rs`) and suspension on the account item (`suspension`);
//! - [`flow`] — the overdue job (`mod.rs`), suspending and lifting (`suspension`).
//!
//! Functions: cron-overdue-invoices, sqs-stripe-events (payments lift a suspension).

pub mod flow;
pub mod rules;
pub mod store;
