//! The subscription lifecycle: Stripe's states applied in order, what a customer can ask
//! (cancel, reactivate, change plan), trials (one per organization, ever).
//!
//! # Layout
//!
//! - [`rules`] — which event wins, what a status means for service;
//! - [`store`] — customer requests and their lock (`mod.rs`), trials (`trials`);
//! - [`flow`] — applying Stripe's state (`apply`), customer changes (`manage`), the view (`view`);
//! - [`http`] — `SubscriptionResponse` and the change shapes.
//!
//! Functions: http-*-subscription*, sqs-stripe-events.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
