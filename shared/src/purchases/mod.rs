//! TODO-DOC purchases

pub mod flow;
pub mod http;
