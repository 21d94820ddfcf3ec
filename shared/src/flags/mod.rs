//! Feature flags: a global default, per-tier and per-organization overrides, audited.
//!
//! # Layout
//!
//! - [`rules`] — resolving a flag;
//! - [`store`] — definitions and overrides;
//! - [`flow`] — define, override, read;
//! - [`http`] — the flag routes' shapes.
//!
//! Functions: http-*-admin-flag*, http-get-features.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
