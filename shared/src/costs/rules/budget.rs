//! Monthly budgets: a spending limit on month-to-date billable LLM cost, a warning threshold,
//! and optionally a hard cap that stops new runs for the rest of the month.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::costs::rules::Micros;
use crate::money::Cents;

/// `ORG#<org>` / `BUDGET`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub monthly_limit_cents: Cents,
    pub warn_at_percent: u32,
    pub hard_cap: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Threshold {
    Warning,
    Exceeded,
}

impl Threshold {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Exceeded => "exceeded",
        }
    }
}

impl Budget {
    fn limit_micros(&self) -> i128 {
        i128::from(self.monthly_limit_cents) * 10_000
    }

    /// Thresholds that month-to-date spend `spent` has reached, lowest first.
    pub fn reached(&self, spent: Micros) -> Vec<Threshold> {
        let spent = i128::from(spent);
        let mut reached = Vec::new();
        if spent * 100 >= self.limit_micros() * i128::from(self.warn_at_percent) {
            reached.push(Threshold::Warning);
        }
        if spent >= self.limit_micros() {
            reached.push(Threshold::Exceeded);
        }
        reached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit_cents: Cents, warn: u32) -> Budget {
        Budget { monthly_limit_cents: limit_cents, warn_at_percent: warn, hard_cap: true, updated_at: Utc::now() }
    }

    #[test]
    fn thresholds_are_reached_at_their_exact_boundaries() {
        let b = budget(10_000, 80); // $100, warn at $80
        assert!(b.reached(79_999_999).is_empty());
        assert_eq!(b.reached(80_000_000), [Threshold::Warning]);
        assert_eq!(b.reached(99_999_999), [Threshold::Warning]);
        assert_eq!(b.reached(100_000_000), [Threshold::Warning, Threshold::Exceeded]);
    }
}
