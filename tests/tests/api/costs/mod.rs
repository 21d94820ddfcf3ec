//! LLM call costs: the cost summary and monthly budgets.

mod budgets;
mod summary;
