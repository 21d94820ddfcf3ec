//! TODO-DOC accounts

pub mod http;
pub mod rules;
pub mod store;
