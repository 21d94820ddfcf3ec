//! Launch-price phases and their Stripe schedules.

mod phases;
