//! The catalog: tiers, plans and the public configuration.

mod config_and_plans;
