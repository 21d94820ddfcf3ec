//! TODO-DOC promotions

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
pub mod stripe;
