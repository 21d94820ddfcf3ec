//! Operators: admin actions, the audit trail, the directory, health and redrive.

mod credit_grants;
mod directory;
mod health;
mod limit_overrides;
mod redrive;
mod suspension;
