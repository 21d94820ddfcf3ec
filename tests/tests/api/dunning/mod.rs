//! Chasing unpaid invoices, suspension and its lifting.

mod overdue_invoices;
