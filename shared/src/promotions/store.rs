//! Promotion codes as stored.
//!
//! | Item | PK | SK |
//! |---|---|---|
//! | A code, its counts and its Stripe mirror | `PROMOS` | `CODE#<code>` |
//! | One organization's redemption of a code | `PROMO#<code>` | `ORG#<org>` |
//!
//! Every code lives in the `PROMOS` partition so operators list them with one query; codes are
//! few and a checkout writes its code's item once, far below a partition's write rate.
//! `taken` counts redemptions completed or held by an open checkout, so "one left" is a
//! single condition (`taken < max_redemptions`) that holds for one racing checkout only; the
//! organization's redemption item is put in the same transaction, `attribute_not_exists`, so
//! an organization redeems a code once.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::flags::store::audit_put;
use crate::ids::OrganizationId;
use crate::operators::rules::audit::AuditEntry;
use crate::promotions::rules::{PromoCodeName, PromoDefinition};
use crate::store::paging::Order;
use crate::store::{Retry, Store, StoreError, decode, encode, key_item, keys, timestamp};

const PARTITION: &str = "PROMOS";
const CODE_PREFIX: &str = "CODE#";

/// `PROMOS` / `CODE#<code>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoCodeItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub definition: PromoDefinition,
    pub active: bool,
    /// Redemptions completed plus those held by open checkouts.
    pub taken: u32,
    /// Redemptions completed (checkouts paid).
    pub redeemed: u32,
    /// The definition's limit, at the top level for the hold's condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_redemptions: Option<u32>,
    pub stripe_coupon_id: String,
    pub stripe_promotion_code_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl PromoCodeItem {
    pub fn new(
        definition: PromoDefinition,
        (stripe_coupon_id, stripe_promotion_code_id): (String, String),
        created_by: &str,
        at: DateTime<Utc>,
    ) -> Self {
        let key = code_key(&definition.code);
        Self {
            pk: key.pk,
            sk: key.sk,
            max_redemptions: definition.max_redemptions,
            definition,
            active: true,
            taken: 0,
            redeemed: 0,
            stripe_coupon_id,
            stripe_promotion_code_id,
            created_at: at,
            created_by: created_by.to_owned(),
            deactivated_at: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedemptionState {
    /// A checkout is open with the discount.
    Held,
    /// The checkout was paid.
    Redeemed,
}

/// `PROMO#<code>` / `ORG#<org>`: the organization's one redemption of the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoRedemption {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub code: PromoCodeName,
    pub organization_id: OrganizationId,
    pub state: RedemptionState,
    /// The checkout request's key: a retried request finds its own hold.
    pub hold_id: String,
    /// What the checkout sells (`applies_to` id).
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub held_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed_at: Option<DateTime<Utc>>,
}

impl PromoRedemption {
    pub fn held(code: &PromoCodeName, org: &OrganizationId, hold_id: &str, target: &str, at: DateTime<Utc>) -> Self {
        let key = redemption_key(code, org);
        Self {
            pk: key.pk,
            sk: key.sk,
            code: code.clone(),
            organization_id: org.clone(),
            state: RedemptionState::Held,
            hold_id: hold_id.to_owned(),
            target: target.to_owned(),
            session_id: None,
            held_at: at,
            redeemed_at: None,
        }
    }
}

fn code_key(code: &PromoCodeName) -> keys::Key {
    keys::Key { pk: PARTITION.to_owned(), sk: format!("{CODE_PREFIX}{code}") }
}

fn redemption_key(code: &PromoCodeName, org: &OrganizationId) -> keys::Key {
    keys::Key { pk: format!("PROMO#{code}"), sk: format!("ORG#{org}") }
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn one() -> AttributeValue {
    AttributeValue::N("1".into())
}

/// `taken` or `redeemed` of the code moved by `delta` (one of a transaction's items).
fn count(table: &str, code: &PromoCodeName, expression: &str) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key_item(&code_key(code))))
        .update_expression(expression)
        .expression_attribute_values(":one", one())
        .condition_expression("attribute_exists(PK)")
        .build()
        .map_err(build_err)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

impl Store {
    pub async fn promo_code(&self, code: &PromoCodeName) -> Result<Option<PromoCodeItem>, StoreError> {
        self.get_item(code_key(code)).await
    }

    /// Every code, in code order.
    pub async fn list_promo_codes(&self) -> Result<Vec<PromoCodeItem>, StoreError> {
        let high = format!("{CODE_PREFIX}~");
        let (items, _) =
            self.query_range(PARTITION, CODE_PREFIX, &high, None, None, usize::MAX, Order::OldestFirst).await?;
        items.into_iter().map(|(key, item)| decode(&key, item)).collect()
    }

    /// Creates the code with its audit entry; `false` when the code already exists.
    pub async fn create_promo_code(&self, item: &PromoCodeItem, entry: &AuditEntry) -> Result<bool, StoreError> {
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(item)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let items = vec![TransactWriteItem::builder().put(put).build(), audit_put(self.table(), entry)?];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Turns an active code off, with its audit entry; `false` when it was already off.
    pub async fn deactivate_promo_code(
        &self,
        code: &PromoCodeName,
        at: DateTime<Utc>,
        entry: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&code_key(code))))
            .update_expression("SET active = :off, deactivated_at = :at")
            .condition_expression("active = :on")
            .expression_attribute_values(":off", AttributeValue::Bool(false))
            .expression_attribute_values(":on", AttributeValue::Bool(true))
            .expression_attribute_values(":at", s(timestamp(at)))
            .build()
            .map_err(build_err)?;
        let items = vec![TransactWriteItem::builder().update(update).build(), audit_put(self.table(), entry)?];
        self.transact(items, Retry::Transient).await?.committed()
    }

    pub async fn promo_redemption(
        &self,
        code: &PromoCodeName,
        org: &OrganizationId,
    ) -> Result<Option<PromoRedemption>, StoreError> {
        self.get_item(redemption_key(code, org)).await
    }

    /// Takes one redemption for an open checkout: only while the code is active, has one
    /// left and the organization has none. `false` when any of that no longer holds.
    pub async fn hold_promo_redemption(&self, hold: &PromoRedemption) -> Result<bool, StoreError> {
        let take = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&code_key(&hold.code))))
            .update_expression("SET taken = taken + :one")
            .condition_expression("active = :on AND (attribute_not_exists(max_redemptions) OR taken < max_redemptions)")
            .expression_attribute_values(":one", one())
            .expression_attribute_values(":on", AttributeValue::Bool(true))
            .build()
            .map_err(build_err)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(hold)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let items =
            vec![TransactWriteItem::builder().update(take).build(), TransactWriteItem::builder().put(put).build()];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Notes the Checkout session a hold belongs to.
    pub async fn attach_promo_session(&self, hold: &PromoRedemption, session_id: &str) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&redemption_key(&hold.code, &hold.organization_id))))
            .update_expression("SET session_id = :session")
            .condition_expression("hold_id = :hold")
            .expression_attribute_values(":session", s(session_id))
            .expression_attribute_values(":hold", s(&hold.hold_id))
            .build()
            .map_err(build_err)?;
        let items = vec![TransactWriteItem::builder().update(update).build()];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Gives a held redemption back (its checkout expired or never started); `false` when it
    /// is no longer held by `hold_id` (released before, or redeemed).
    pub async fn release_promo_hold(
        &self,
        code: &PromoCodeName,
        org: &OrganizationId,
        hold_id: &str,
    ) -> Result<bool, StoreError> {
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&redemption_key(code, org))))
            .condition_expression("#state = :held AND hold_id = :hold")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":held", s("held"))
            .expression_attribute_values(":hold", s(hold_id))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            count(self.table(), code, "SET taken = taken - :one")?,
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }

    /// Counts a held redemption as redeemed (its checkout was paid); `false` when it is no
    /// longer held by `hold_id`.
    pub async fn redeem_promo_hold(
        &self,
        code: &PromoCodeName,
        org: &OrganizationId,
        hold_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&redemption_key(code, org))))
            .update_expression("SET #state = :redeemed, redeemed_at = :at")
            .condition_expression("#state = :held AND hold_id = :hold")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":held", s("held"))
            .expression_attribute_values(":redeemed", s("redeemed"))
            .expression_attribute_values(":hold", s(hold_id))
            .expression_attribute_values(":at", s(timestamp(at)))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            count(self.table(), code, "SET redeemed = redeemed + :one")?,
        ];
        self.transact(items, Retry::Transient).await?.committed()
    }
}
