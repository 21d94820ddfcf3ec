//! Usage records: the usage queue, the lists and the daily series.

mod daily;
mod list_queries;
mod pipeline;
