//! The billing account item (`ORG#<org>` / `ACCOUNT`): one per organization, created on first
//! need by a conditional put so simultaneous first visits agree on a single account.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, decode, encode, key_item, keys};
use crate::domain::money::Cents;
use crate::domain::{OrganizationId, TierId, period};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Pending,
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// The account as stored. Money is integer cents; the free quota is tagged with the month it
/// belongs to so a new month can be recognised (and reset) lazily.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub id: String,
    pub organization_id: OrganizationId,
    pub status: AccountStatus,
    pub tier: TierId,
    pub stripe_customer_id: Option<String>,
    pub has_payment_method: bool,
    /// `YYYY-MM` the `free_remaining` count belongs to.
    pub free_period: String,
    pub free_remaining: u32,
    /// Prepaid credits available to spend (holds already subtracted).
    pub credit_balance_cents: Cents,
    /// Prepaid credits set aside by open holds.
    pub credit_held_cents: Cents,
    pub auto_billing_enabled: bool,
    pub billing_email: Option<String>,
    pub tax_exempt: bool,
    pub total_workflows_completed: u64,
    pub total_spent_cents: Cents,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every write, for optimistic checks and debugging.
    pub version: u64,
}

impl AccountItem {
    /// A brand-new account on the free tier with this month's free quota.
    pub fn new_free(
        org: &OrganizationId,
        now: DateTime<Utc>,
        free_workflows: u32,
        free_tier: TierId,
    ) -> Self {
        let key = keys::account(org);
        Self {
            pk: key.pk,
            sk: key.sk,
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: org.clone(),
            status: AccountStatus::Active,
            tier: free_tier,
            stripe_customer_id: None,
            has_payment_method: false,
            free_period: period::month_key(now),
            free_remaining: free_workflows,
            credit_balance_cents: 0,
            credit_held_cents: 0,
            auto_billing_enabled: false,
            billing_email: None,
            tax_exempt: false,
            total_workflows_completed: 0,
            total_spent_cents: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Free workflows left at `now`: a stored count from an earlier month has been replaced by
    /// a full quota, even if no write has happened yet this month.
    pub fn free_remaining_at(&self, now: DateTime<Utc>, monthly_quota: u32) -> u32 {
        if self.free_period == period::month_key(now) {
            self.free_remaining
        } else {
            monthly_quota
        }
    }
}

impl Store {
    pub async fn get_account(
        &self,
        org: &OrganizationId,
    ) -> Result<Option<AccountItem>, StoreError> {
        let key = keys::account(org);
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("GetItem", e))?;
        out.item.map(|item| decode(&key, item)).transpose()
    }

    /// Returns the organization's account, creating `fresh` if there is none yet.
    ///
    /// The put is conditional on the key not existing; when another request created the
    /// account first, DynamoDB hands back the winner's item with the failure, so every caller
    /// returns the same account without a second read.
    pub async fn get_or_create_account(
        &self,
        fresh: AccountItem,
    ) -> Result<AccountItem, StoreError> {
        if let Some(existing) = self.get_account(&fresh.organization_id).await? {
            return Ok(existing);
        }
        let key = keys::Key {
            pk: fresh.pk.clone(),
            sk: fresh.sk.clone(),
        };
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&fresh)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(org = %fresh.organization_id, account_id = %fresh.id, "billing account created");
                Ok(fresh)
            }
            Err(err) => {
                let lost_race = match err.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(lost)) => {
                        Some(lost.item.clone())
                    }
                    _ => None,
                };
                match lost_race {
                    None => Err(StoreError::from_sdk("PutItem", err)),
                    Some(Some(winner)) => decode(&key, winner),
                    // Emulators that ignore ReturnValuesOnConditionCheckFailure: read the winner.
                    Some(None) => {
                        self.get_account(&fresh.organization_id)
                            .await?
                            .ok_or_else(|| StoreError::Dynamo {
                                operation: "PutItem",
                                message: "account creation lost a race but no account exists"
                                    .to_owned(),
                            })
                    }
                }
            }
        }
    }
}
