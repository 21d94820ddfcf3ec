//! CSV exports of the lists (usage, costs, invoices): the same records, filters and cursors
//! as the JSON routes.
//!
//! # Layout
//!
//! - [`http`] — the CSV writer and its errors.
//!
//! Functions: http-get-export.

pub mod http;
