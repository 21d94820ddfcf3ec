//! Invoices: generation, collection through Stripe, the monthly close, voids.

mod collection;
mod generation;
mod monthly_close;
mod voids_and_write_offs;
