//! The prepaid balance and its ledger.

mod ledger;
