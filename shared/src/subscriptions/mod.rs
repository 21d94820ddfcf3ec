//! TODO-DOC subscriptions

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
