//! The single-table key layout. Every item's `PK`/`SK` is built here and nowhere else.
//!
//! | Item             | PK                        | SK        |
//! |------------------|---------------------------|-----------|
//! | Billing account  | `ORG#<org>`               | `ACCOUNT` |
//!
//! Later items (ledger, usage, costs, invoices, Stripe maps, idempotency keys) follow the same
//! pattern: the organization is the partition, the item kind and time order the sort key.

use crate::ids::OrganizationId;

pub const PK: &str = "PK";
pub const SK: &str = "SK";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

pub fn org_partition(org: &OrganizationId) -> String {
    format!("ORG#{org}")
}

pub fn account(org: &OrganizationId) -> Key {
    Key { pk: org_partition(org), sk: "ACCOUNT".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_lives_in_its_organization_partition() {
        let org = OrganizationId::parse("demo").unwrap();
        assert_eq!(account(&org), Key { pk: "ORG#demo".into(), sk: "ACCOUNT".into() });
    }
}
