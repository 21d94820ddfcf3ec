//! The subscription lifecycle and trials.

mod lifecycle;
mod trials;
