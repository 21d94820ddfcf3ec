//! The billing account: one item per organization with its status (active, suspended), tier,
//! quota buckets, open holds and operators' limit overrides; created on first use.
//!
//! # Layout
//!
//! - [`rules`] — the account as the rules see it, its holds, the limits in force (`limits`);
//! - [`store`] — the account item, its creation and its cached reads;
//! - [`http`] — `BillingAccountResponse`.
//!
//! Functions: http-get-account, http-get-quota, the admin directory.

pub mod http;
pub mod rules;
pub mod store;
