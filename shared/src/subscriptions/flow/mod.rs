//! The subscription lifecycle: applying Stripe's states in order ([`apply`]), what the
//! customer sees ([`view`]) and what they can ask for: cancel, reactivate, change plan and
//! preview a change ([`manage`]).

pub mod apply;
pub mod manage;
pub mod view;
