//! Money in, started from the pages: the organization's Stripe customer, Checkout for
//! credits, packs, lifetime, subscriptions and cards, the customer portal, saved cards.
//!
//! # Layout
//!
//! - [`flow`] — customers, Checkout sessions, the portal;
//! - [`http`] — request bodies (`mod.rs`) and `PaymentMethodResponse` (`payment_methods`).
//!
//! Functions: http-post-*-checkout, http-post-portal, payment-method routes.

pub mod flow;
pub mod http;
