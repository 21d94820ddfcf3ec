//! Dollar amounts in request bodies: JSON numbers only (a string such as `"10"` is refused),
//! parsed exactly into `Decimal` from their decimal text, never through binary floating point.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::Error;
use serde::{Deserialize, Deserializer};

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    Decimal::from_str(&number.to_string())
        .or_else(|_| Decimal::from_scientific(&number.to_string()))
        .map_err(|_| D::Error::custom(format!("{number} is not a representable amount")))
}

pub mod option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
        Option::<serde_json::Number>::deserialize(deserializer)?
            .map(|n| {
                Decimal::from_str(&n.to_string())
                    .or_else(|_| Decimal::from_scientific(&n.to_string()))
                    .map_err(|_| D::Error::custom(format!("{n} is not a representable amount")))
            })
            .transpose()
    }
}

/// Converts a caller-supplied non-negative dollar amount to cents, refusing sub-cent values.
pub fn amount_to_cents(field: &str, usd: Decimal) -> Result<super::Cents, String> {
    if usd.is_sign_negative() && !usd.is_zero() {
        return Err(format!("{field} must not be negative"));
    }
    super::exact_cents(usd).map_err(|e| format!("{field}: {e}"))
}
