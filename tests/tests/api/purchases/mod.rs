//! Checkout for credits, packs, lifetime and subscriptions, and payment methods.

mod checkout;
mod payment_method_checkout;
mod payment_methods;
