//! Feature flags.

mod overrides;
