//! Integration tests against the local stack. One binary; one module per concern of the `billing`
//! crate (plus `platform`), one file per behaviour group. What several files share lives in
//! `billing_tests` (`tests/src`), so no test module imports from another.

mod accounts;
mod byo_keys;
mod catalog;
mod costs;
mod credits;
mod dunning;
mod exports;
mod flags;
mod invoicing;
mod launch_offers;
mod operators;
mod platform;
mod promotions;
mod purchases;
mod quota;
mod stripe_events;
mod subscriptions;
mod usage;
