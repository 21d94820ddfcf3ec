//! Operators' pure rules: audit entries and the stack's queues as operators see them.

pub mod audit;
pub mod queues;
