//! Quota reservations: reserve, heartbeat, commit, release, and the sweep of expired holds;
//! the monthly free-quota reset. Conditional writes on the account item are the whole algorithm.
//!
//! # Layout
//!
//! - [`rules`] — which bucket pays for a run, holds, settlement arithmetic;
//! - [`store`] — reserve/heartbeat (`mod.rs`), settling (`settle`), the lazy reset (`reset`), finding expired holds (`sweep`);
//! - [`flow`] — the eager free-quota reset the monthly close runs;
//! - [`http`] — the quota routes' shapes and errors.
//!
//! Functions: http-post-reservation*, http-get-quota, cron-expire-holds.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
