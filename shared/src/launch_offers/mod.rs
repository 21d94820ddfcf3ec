//! Launch prices: a subscription bought inside a tier's launch window pays the intro price
//! for its phases, through a Stripe subscription schedule.
//!
//! # Layout
//!
//! - [`rules`] — launch phases;
//! - [`store`] — the schedule item (`ORG#<org>` / `LAUNCH`);
//! - [`stripe`] — subscription schedules at Stripe;
//! - [`flow`] — attaching a schedule to a new subscription.
//!
//! Functions: sqs-stripe-events (after a subscription Checkout).

pub mod flow;
pub mod rules;
pub mod store;
pub mod stripe;
