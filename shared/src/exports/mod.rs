//! TODO-DOC exports

pub mod http;
