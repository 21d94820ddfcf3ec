//! The billing account: created once on a first visit.

mod first_visit;
