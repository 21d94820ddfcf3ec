//! TODO-DOC stripe_events

pub mod flow;
pub mod store;
