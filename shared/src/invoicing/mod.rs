//! Invoices: generation (exactly once per unit of usage, resumable), collection through
//! Stripe, the monthly close and its month lines, and operators ending collection (void,
//! uncollectible).
//!
//! # Layout
//!
//! - [`rules`] — invoices, lines, month charges, totals, what a void undoes;
//! - [`store`] — invoices and the exactly-once writes (`mod.rs`), the close list (`close`), voids and credit notes (`operator`);
//! - [`stripe`] — Stripe invoices that collect ours;
//! - [`flow`] — generation and collection (`mod.rs`), operators' actions (`actions`);
//! - [`http`] — `InvoiceResponse` and the invoice routes' shapes.
//!
//! Functions: http-post-invoices-generate, http-get-invoice(s), cron-monthly-close, sqs-account-close, admin invoice routes.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
pub mod stripe;
