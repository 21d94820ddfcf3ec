//! TODO-DOC catalog

pub mod http;
pub mod rules;
