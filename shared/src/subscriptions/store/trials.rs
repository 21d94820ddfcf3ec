//! Trials: each organization gets one, ever. `ORG#<org>/TRIAL` is written (conditionally, once)
//! when a subscription first reports `trialing`, and a checkout offers a trial only while it is
//! absent, so cancelling and subscribing again never starts a second one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;
use crate::store::{Store, StoreError, keys};

/// `ORG#<org>` / `TRIAL`: the organization's one trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub tier: String,
    pub subscription_id: String,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
}

impl TrialRecord {
    pub fn new(
        org: &OrganizationId,
        tier: &str,
        subscription_id: &str,
        (trial_start, trial_end): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        at: DateTime<Utc>,
    ) -> Self {
        let key = trial_key(org);
        Self {
            pk: key.pk,
            sk: key.sk,
            organization_id: org.clone(),
            tier: tier.to_owned(),
            subscription_id: subscription_id.to_owned(),
            trial_start,
            trial_end,
            recorded_at: at,
        }
    }
}

fn trial_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "TRIAL".to_owned() }
}

impl Store {
    pub async fn trial(&self, org: &OrganizationId) -> Result<Option<TrialRecord>, StoreError> {
        self.get_item(trial_key(org)).await
    }

    /// Records the organization's trial; `false` when one was recorded before.
    pub async fn record_trial(&self, trial: &TrialRecord) -> Result<bool, StoreError> {
        self.put_new(trial).await
    }
}
