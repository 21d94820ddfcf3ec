//! CSV exports of the lists.

mod csv;
