//! The plan catalog (data in `shared/catalog/plans.json`): tiers, their limits and prices, run
//! prices, workflow packs; and the public configuration the pages read.
//!
//! # Layout
//!
//! - [`rules`] — the catalog and its validation;
//! - [`http`] — `StripeConfigResponse` (`GET .../config`).
//!
//! Functions: http-get-config, and every concern that prices.

pub mod http;
pub mod rules;
