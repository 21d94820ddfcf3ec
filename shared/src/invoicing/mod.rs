//! TODO-DOC invoicing

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
pub mod stripe;
