//! TODO-DOC dunning

pub mod flow;
pub mod rules;
pub mod store;
