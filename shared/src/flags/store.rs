//! Feature flags as stored: every definition in the `FLAGS` partition (`FLAG#<name>`, read
//! together with one query), an organization's overrides in one item (`ORG#<org>` /
//! `FLAGS`). Each change is a versioned conditional write in one transaction with its audit
//! entry, so two operators cannot overwrite each other unseen.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use crate::flags::rules::{FLAG_PREFIX, FLAGS_PARTITION, Flag, FlagName};
use crate::ids::OrganizationId;
use crate::operators::rules::audit::AuditEntry;
use crate::store::paging::Order;
use crate::store::{Retry, Store, StoreError, decode, encode, key_item, keys};

/// `ORG#<org>` / `FLAGS`: the organization's overrides by flag name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrganizationFlags {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(default)]
    pub flags: BTreeMap<String, bool>,
    /// 0 while no item exists.
    #[serde(default)]
    pub version: u64,
}

fn flag_key(name: &FlagName) -> keys::Key {
    keys::Key { pk: FLAGS_PARTITION.to_owned(), sk: format!("{FLAG_PREFIX}{name}") }
}

fn organization_flags_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "FLAGS".to_owned() }
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

/// Creates when nothing was read (`0`), else replaces only the version read.
fn versioned_put(table: &str, item: crate::store::Item, read_version: u64) -> Result<Put, StoreError> {
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = if read_version == 0 {
        put.condition_expression("attribute_not_exists(PK)")
    } else {
        put.condition_expression("version = :read")
            .expression_attribute_values(":read", AttributeValue::N(read_version.to_string()))
    };
    put.build().map_err(build_err)
}

pub(crate) fn audit_put(table: &str, entry: &AuditEntry) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(encode(entry)?))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(build_err)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl Store {
    /// Every defined flag, by name.
    pub async fn list_flags(&self) -> Result<Vec<Flag>, StoreError> {
        let high = format!("{FLAG_PREFIX}~");
        let (items, _) =
            self.query_range(FLAGS_PARTITION, FLAG_PREFIX, &high, None, None, usize::MAX, Order::OldestFirst).await?;
        items.into_iter().map(|(key, item)| decode(&key, item)).collect()
    }

    pub async fn get_flag(&self, name: &FlagName) -> Result<Option<Flag>, StoreError> {
        self.get_item(flag_key(name)).await
    }

    /// Writes the flag if it is still at `read_version` (0: not defined yet), with its audit
    /// entry. `false` when someone changed it meanwhile.
    pub async fn put_flag(&self, flag: &Flag, read_version: u64, entry: &AuditEntry) -> Result<bool, StoreError> {
        let put = versioned_put(self.table(), encode(flag)?, read_version)?;
        let items = vec![TransactWriteItem::builder().put(put).build(), audit_put(self.table(), entry)?];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// The organization's overrides (none: an empty set at version 0).
    pub async fn organization_flags(&self, org: &OrganizationId) -> Result<OrganizationFlags, StoreError> {
        let key = organization_flags_key(org);
        let found: Option<OrganizationFlags> = self.get_item(key.clone()).await?;
        Ok(found.unwrap_or(OrganizationFlags { pk: key.pk, sk: key.sk, ..Default::default() }))
    }

    /// Replaces the organization's overrides if still at the version read, while the flag
    /// changed is still defined, with the audit entry. `false` when either moved.
    pub async fn put_organization_flags(
        &self,
        org: &OrganizationId,
        flags: &BTreeMap<String, bool>,
        read_version: u64,
        changed: &FlagName,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let key = organization_flags_key(org);
        let item = OrganizationFlags { pk: key.pk, sk: key.sk, flags: flags.clone(), version: read_version + 1 };
        let put = versioned_put(self.table(), encode(&item)?, read_version)?;
        let defined = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&flag_key(changed))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().condition_check(defined).build(),
            audit_put(self.table(), entry)?,
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }
}
