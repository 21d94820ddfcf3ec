//! TODO-DOC byo_keys

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
