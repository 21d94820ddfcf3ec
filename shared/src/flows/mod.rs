//! Flows that span the store, the domain rules and the event bus, shared by the functions
//! that start them (an HTTP route and a queue consumer run the same flow).

pub mod admin;
pub mod byo_keys;
pub mod checkout;
pub mod directory;
pub mod dunning;
pub mod flags;
pub mod free_quota;
pub mod health;
pub mod invoice_actions;
pub mod invoicing;
pub mod launch_offers;
pub mod payment_methods;
pub mod promo_codes;
pub mod redrive;
pub mod stripe_events;
pub mod subscriptions;
pub mod suspension;
pub mod usage;
