//! Money. The domain works in [`Decimal`] dollars; storage and Stripe work in integer cents.
//! This module is the one place that converts between them.

pub mod usd;

use rust_decimal::{Decimal, RoundingStrategy};

/// A whole number of US cents, as stored in DynamoDB and sent to Stripe.
pub type Cents = i64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("amount {0} has more than two decimal places")]
    SubCent(Decimal),
    #[error("amount {0} is too large")]
    Overflow(Decimal),
}

/// Exact conversion for amounts a person typed: refuses fractions of a cent instead of
/// silently rounding them.
pub fn exact_cents(usd: Decimal) -> Result<Cents, MoneyError> {
    let scaled = usd.checked_mul(Decimal::ONE_HUNDRED).ok_or(MoneyError::Overflow(usd))?;
    if !scaled.fract().is_zero() {
        return Err(MoneyError::SubCent(usd));
    }
    i64::try_from(scaled).map_err(|_| MoneyError::Overflow(usd))
}

/// Conversion for computed amounts (e.g. a margin on an LLM cost): rounds half away from
/// zero to the cent, the usual commercial rounding.
pub fn rounded_cents(usd: Decimal) -> Result<Cents, MoneyError> {
    let rounded = usd.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    exact_cents(rounded)
}

pub fn dollars(cents: Cents) -> Decimal {
    Decimal::new(cents, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn whole_cent_amounts_convert_exactly_both_ways() {
        assert_eq!(exact_cents(dec!(1000)), Ok(100_000));
        assert_eq!(exact_cents(dec!(0.01)), Ok(1));
        assert_eq!(exact_cents(dec!(19.90)), Ok(1990));
        assert_eq!(dollars(1990), dec!(19.90));
        assert_eq!(dollars(-5), dec!(-0.05));
    }

    #[test]
    fn fractions_of_a_cent_are_refused_unless_rounding_is_asked_for() {
        assert_eq!(exact_cents(dec!(0.005)), Err(MoneyError::SubCent(dec!(0.005))));
        assert_eq!(rounded_cents(dec!(0.005)), Ok(1));
        assert_eq!(rounded_cents(dec!(0.0049)), Ok(0));
        assert_eq!(rounded_cents(dec!(-0.005)), Ok(-1));
    }

    #[test]
    fn absurd_amounts_overflow_instead_of_wrapping() {
        assert_eq!(exact_cents(Decimal::MAX), Err(MoneyError::Overflow(Decimal::MAX)));
    }
}
