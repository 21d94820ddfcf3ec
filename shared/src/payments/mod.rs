//! Stripe: the API client wrapper (customers, payment methods) and webhook signature
//! verification. Named `payments` so it never shadows the `stripe` crate.

pub mod client;
pub mod transport;
pub mod webhook;

pub use client::{PaymentError, StripeApi};
