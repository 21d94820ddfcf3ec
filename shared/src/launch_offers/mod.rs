//! TODO-DOC launch_offers

pub mod flow;
pub mod rules;
pub mod store;
pub mod stripe;
