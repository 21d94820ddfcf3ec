//! Promotion codes mirrored to Stripe.

mod promo_codes;
