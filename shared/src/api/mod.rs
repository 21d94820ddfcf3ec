//! Response and request shapes of the public API, field for field as in the frontend guide.
//! Money leaves as JSON numbers in dollars; timestamps as RFC 3339 UTC strings.

pub mod account;
pub mod config;
pub mod costs;
pub mod invoices;
pub mod openapi;
pub mod quota;
pub mod subscription;
pub mod usd;

pub use account::BillingAccountResponse;
pub use config::StripeConfigResponse;
