//! TODO-DOC costs

pub mod http;
pub mod rules;
pub mod store;
