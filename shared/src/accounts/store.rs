//! The billing account item (`ORG#<org>` / `ACCOUNT`): one per organization, created on first
//! need by a conditional put so simultaneous first visits agree on a single account.

pub use crate::accounts::rules::{Account as AccountItem, AccountStatus};
use crate::ids::OrganizationId;
use crate::store::conditional::Checked;
use crate::store::{Retry, Store, StoreError, decode, encode, keys};

impl Store {
    pub async fn get_account(&self, org: &OrganizationId) -> Result<Option<AccountItem>, StoreError> {
        self.get_item(keys::account(org)).await
    }

    /// Returns the organization's account, creating `fresh` if there is none yet.
    ///
    /// The put is conditional on the key not existing; when another request created the
    /// account first, DynamoDB hands back the winner's item with the failure, so every caller
    /// returns the same account without a second read.
    pub async fn get_or_create_account(&self, fresh: AccountItem) -> Result<AccountItem, StoreError> {
        if let Some(existing) = self.get_account(&fresh.organization_id).await? {
            return Ok(existing);
        }
        let fresh = crate::operators::store::directory::listed(fresh);
        let key = keys::Key { pk: fresh.pk.clone(), sk: fresh.sk.clone() };
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&fresh)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK);
        // One attempt: sent again after a lost answer, the put would find its own account and
        // take it for another request's, and the new account would miss its listing below.
        match self.put_checked(put, Retry::Never).await? {
            Checked::Written(()) => {
                tracing::info!(org = %fresh.organization_id, account_id = %fresh.id, "billing account created");
                // Listed for its first monthly close (generation lists it again if this fails).
                let month = crate::period::month_key(fresh.created_at);
                if let Err(err) = self.schedule_close(&fresh.organization_id, &month).await {
                    tracing::warn!(error = %err, "could not list the new account for the monthly close");
                }
                Ok(fresh)
            }
            Checked::Refused(Some(winner)) => decode(&key, winner),
            // Emulators that ignore ReturnValuesOnConditionCheckFailure: read the winner.
            Checked::Refused(None) => {
                self.get_account(&fresh.organization_id).await?.ok_or_else(|| StoreError::Dynamo {
                    operation: "PutItem",
                    message: "account creation lost a race but no account exists".to_owned(),
                })
            }
        }
    }
}
