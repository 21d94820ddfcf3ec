//! Response and request shapes of the public API, field for field as in the frontend guide.
//! Money leaves as JSON numbers in dollars; timestamps as RFC 3339 UTC strings.

pub mod account;
pub mod admin;
pub mod byo_keys;
pub mod config;
pub mod costs;
pub mod credits;
pub mod daily;
pub mod directory;
pub mod export;
pub mod flags;
pub mod invoices;
pub mod openapi;
pub mod promo_codes;
pub mod purchases;
pub mod quota;
pub mod subscription;
pub mod usd;

/// Header carrying the cursor of the next page of a list (absent on the last page). Lists
/// answer with a bare JSON array, as the frontend guide's list endpoints do.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

pub use account::BillingAccountResponse;
pub use config::StripeConfigResponse;
