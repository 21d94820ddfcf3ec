//! What platform operators do and see: the audit trail, the account directory and one
//! account in full, suspension, credit grants, limit overrides, the health view and dead-letter
//! redrive.
//!
//! # Layout
//!
//! - [`rules`] — audit entries (`audit`), the stack's queues (`queues`);
//! - [`store`] — admin writes with their audit entry (`mod.rs`), the directory, table status (`operations`), last runs of schedules (`schedules`);
//! - [`flow`] — admin actions (`mod.rs`), `directory`, `health`, `redrive`;
//! - [`http`] — admin shapes (`mod.rs`), directory shapes (`directory`).
//!
//! Functions: http-*-admin-*.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
