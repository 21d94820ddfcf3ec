//! What operators' health view and queue actions need from the table: its own status, and
//! the audit entries of actions on queues (`QUEUE#<logical id>` / `AUDIT#<at>#<id>`).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::operators::rules::audit::QueueAuditEntry;
use crate::store::{Store, StoreError, encode, key_item, keys};

/// The table as DynamoDB describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    /// `ACTIVE`, `UPDATING`, …
    pub status: String,
    /// DynamoDB's estimate, refreshed about every six hours.
    pub item_count: Option<i64>,
    pub size_bytes: Option<i64>,
}

impl Store {
    pub async fn table_status(&self) -> Result<TableStatus, StoreError> {
        let described = self
            .client()
            .describe_table()
            .table_name(self.table())
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("DescribeTable", e))?;
        let table = described.table.as_ref();
        Ok(TableStatus {
            status: table
                .and_then(|t| t.table_status.as_ref())
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "UNKNOWN".to_owned()),
            item_count: table.and_then(|t| t.item_count),
            size_bytes: table.and_then(|t| t.table_size_bytes),
        })
    }

    /// Writes the entry of an action that is about to start (never overwriting one).
    pub async fn put_queue_audit(&self, entry: &QueueAuditEntry) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(entry)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("PutItem", e))?;
        Ok(())
    }

    /// Records how the action went on its entry.
    pub async fn complete_queue_audit(
        &self,
        entry: &QueueAuditEntry,
        after: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let key = keys::Key { pk: entry.pk.clone(), sk: entry.sk.clone() };
        let after = serde_dynamo::to_attribute_value(after).map_err(StoreError::Encode)?;
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key)))
            .update_expression("SET #after = :after")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#after", "after")
            .expression_attribute_values(":after", after)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("UpdateItem", e))?;
        Ok(())
    }

    /// A queue's audit entries, newest first (at most `limit`).
    pub async fn queue_audit(&self, queue: &str, limit: i32) -> Result<Vec<QueueAuditEntry>, StoreError> {
        let pk = format!("QUEUE#{queue}");
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :audit)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(
                ":audit",
                AttributeValue::S(crate::operators::rules::audit::AUDIT_PREFIX.to_owned()),
            )
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", e))?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let sk = item.get("SK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                crate::store::decode(&keys::Key { pk: pk.clone(), sk }, item)
            })
            .collect()
    }
}
