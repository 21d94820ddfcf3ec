//! Bring-your-own LLM provider keys: saved once, sealed with the organization's KMS data key
//! (`crate::crypto`, feature `byo-keys`), shown only as a hint, opened only for the internal
//! route.
//!
//! # Layout
//!
//! - [`rules`] — providers, what a key and base URL must look like;
//! - [`store`] — one sealed item per provider;
//! - [`flow`] — save, list, remove, open;
//! - [`http`] — the routes' shapes.
//!
//! Functions: http-*-byo-key*, http-get-internal-byo-key.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
