//! Stripe's events: the webhook verifies and queues them (FIFO, per customer), the consumer
//! applies each exactly once (event markers); the customer ↔ organization map; purchases and
//! refunds; Stripe invoice states.
//!
//! # Layout
//!
//! - [`store`] — event markers, the customer map, purchases, the subscription item, invoice states;
//! - [`flow`] — applying one event.
//!
//! Functions: webhook-stripe, sqs-stripe-events.

pub mod flow;
pub mod store;
