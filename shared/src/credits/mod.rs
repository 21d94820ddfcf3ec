//! The prepaid balance (available, and held by running workflows) and its ledger.
//!
//! # Layout
//!
//! - [`store`] — reading the ledger;
//! - [`http`] — `GET .../credits`.
//!
//! Functions: http-get-credits.

pub mod http;
pub mod store;
