//! Validated identifiers that arrive from outside (path parameters, message bodies).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{what} must be 1 to 64 characters of letters, digits, '-' or '_'")]
pub struct InvalidId {
    pub what: &'static str,
}

/// An organization id as used in routes and keys. Restricting the alphabet keeps it safe to
/// embed in DynamoDB keys (`ORG#<id>`) and log lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganizationId(String);

impl OrganizationId {
    pub fn parse(raw: &str) -> Result<Self, InvalidId> {
        if is_safe_id(raw) { Ok(Self(raw.to_owned())) } else { Err(InvalidId { what: "organization_id" }) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrganizationId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrganizationId> for String {
    fn from(id: OrganizationId) -> Self {
        id.0
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Letters, digits, `-` and `_`, 1 to 64 characters.
pub fn is_safe_id(raw: &str) -> bool {
    (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_ids_accept_slug_characters_only() {
        assert!(OrganizationId::parse("demo").is_ok());
        assert!(OrganizationId::parse("org_01H-xyz").is_ok());
        for bad in ["", "a b", "ORG#x", "../etc", "é", &"x".repeat(65)] {
            assert_eq!(
                OrganizationId::parse(bad),
                Err(InvalidId { what: "organization_id" }),
                "{bad:?} should be refused"
            );
        }
    }
}
