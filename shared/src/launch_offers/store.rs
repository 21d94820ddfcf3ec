//! A subscription's launch-price schedule: `ORG#<org>` / `LAUNCH`, written when the Stripe
//! schedule is in place, read by the subscription view, and marked ended when a plan change
//! or a cancellation releases the schedule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;
use crate::launch_offers::rules::PricePhase;
use crate::store::{Store, StoreError, keys};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchSchedule {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub offer_id: String,
    pub offer_name: String,
    pub tier: String,
    pub subscription_id: String,
    pub schedule_id: String,
    pub phases: Vec<PricePhase>,
    pub created_at: DateTime<Utc>,
    /// Set when the schedule was released before its phases ran out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_because: Option<String>,
}

impl LaunchSchedule {
    pub fn new(
        org: &OrganizationId,
        (offer_id, offer_name, tier): (&str, &str, &str),
        (subscription_id, schedule_id): (&str, &str),
        phases: Vec<PricePhase>,
        at: DateTime<Utc>,
    ) -> Self {
        let key = launch_key(org);
        Self {
            pk: key.pk,
            sk: key.sk,
            organization_id: org.clone(),
            offer_id: offer_id.to_owned(),
            offer_name: offer_name.to_owned(),
            tier: tier.to_owned(),
            subscription_id: subscription_id.to_owned(),
            schedule_id: schedule_id.to_owned(),
            phases,
            created_at: at,
            ended_at: None,
            ended_because: None,
        }
    }

    /// Whether the schedule still drives `subscription_id`'s price.
    pub fn drives(&self, subscription_id: &str) -> bool {
        self.ended_at.is_none() && self.subscription_id == subscription_id
    }
}

fn launch_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "LAUNCH".to_owned() }
}

impl Store {
    pub async fn launch_schedule(&self, org: &OrganizationId) -> Result<Option<LaunchSchedule>, StoreError> {
        self.get_item(launch_key(org)).await
    }

    /// Records the schedule (the organization's latest; a repeat writes the same item).
    pub async fn put_launch_schedule(&self, schedule: &LaunchSchedule) -> Result<(), StoreError> {
        self.put(schedule).await
    }
}
