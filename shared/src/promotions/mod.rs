//! Promotion codes: operators define a discount and its limits; each is mirrored to a Stripe
//! coupon and promotion code, and redeemed at Checkout.
//!
//! # Layout
//!
//! - [`rules`] — what a code is and when it applies;
//! - [`store`] — codes as stored;
//! - [`stripe`] — coupons and promotion codes at Stripe;
//! - [`flow`] — create, list, deactivate;
//! - [`http`] — the admin routes' shapes.
//!
//! Functions: http-*-admin-promo-code*, the pack and lifetime checkouts.

pub mod flow;
pub mod http;
pub mod rules;
pub mod store;
pub mod stripe;
