//! Short constructors for the values tests write: DynamoDB attributes and organization ids.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::ids::OrganizationId;

/// The organization id `name`, which must be valid.
pub fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

/// A DynamoDB number attribute.
pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A DynamoDB string attribute.
pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}
