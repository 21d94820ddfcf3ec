//! Reading the credit ledger.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::ids::OrganizationId;
use crate::store::{Store, StoreError, decode, keys};
use crate::usage::rules::LedgerEntry;

impl Store {
    /// The newest `limit` ledger entries, newest first.
    pub async fn recent_ledger(&self, org: &OrganizationId, limit: i32) -> Result<Vec<LedgerEntry>, StoreError> {
        let pk = keys::org_partition(org);
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :ledger)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":ledger", AttributeValue::S("LEDGER#".into()))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let sk = item.get("SK").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                decode(&keys::Key { pk: pk.clone(), sk }, item)
            })
            .collect()
    }
}
