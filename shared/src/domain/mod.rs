//! Pure billing rules: no I/O, no clock of their own, no AWS types.

pub mod account;
pub mod audit;
pub mod budget;
pub mod byo_keys;
pub mod costs;
pub mod flags;
pub mod ids;
pub mod invoicing;
pub mod launch;
pub mod limits;
pub mod money;
pub mod period;
pub mod plans;
pub mod promo;
pub mod queues;
pub mod quota;
pub mod subscription;
pub mod usage;

pub use ids::{InvalidId, OrganizationId};
pub use money::{Cents, MoneyError};
pub use plans::{Catalog, CatalogError, Limit, TierId};
