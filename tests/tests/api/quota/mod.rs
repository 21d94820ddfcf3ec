//! The quota engine: reserve, heartbeat, commit, release, sweep.

mod buckets;
mod concurrency;
mod expiry;
mod faults;
mod first_attempt;
mod http;
mod money_safety;
mod periods;
mod random_sequences;
mod requests;
