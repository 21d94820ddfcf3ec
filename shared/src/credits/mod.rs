//! TODO-DOC credits

pub mod http;
pub mod store;
