//! The Stripe webhook: delivery, and the effects of Stripe's events.

mod announcements;
mod delivery;
mod payment_failures;
mod purchases;
mod subscriptions;
