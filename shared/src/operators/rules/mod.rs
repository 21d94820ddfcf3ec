//! TODO-DOC operators::rules

pub mod audit;
pub mod queues;
