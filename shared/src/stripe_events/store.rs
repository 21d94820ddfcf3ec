//! Stripe's side of the table: webhook event markers, the customer ↔ organization map,
//! purchases (credits, packs, lifetime) and their refunds, and the subscription item.
//!
//! | Item | PK | SK |
//! |---|---|---|
//! | Stripe event marker | `STRIPE_EVENT#<evt>` | `EVENT` |
//! | Customer map | `STRIPE#<cus>` | `CUSTOMER` |
//! | Purchase | `STRIPE_PAYMENT#<payment intent or session>` | `PURCHASE` |
//! | Subscription | `ORG#<org>` | `SUBSCRIPTION` |
//! | Plan change (history) | `ORG#<org>` | `PLAN#<timestamp>#<event id>` |
//! | Invoice state | `ORG#<org>` | `STRIPEINV#<invoice>` |

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::events::Envelope;
use crate::ids::OrganizationId;
use crate::money::Cents;
use crate::store::conditional::Checked;
use crate::store::outbox::outbox_put;
use crate::store::paging::Reach;
use crate::store::{Retry, Store, StoreError, encode, key_item, keys, timestamp, written};
use crate::subscriptions::rules::ChangeCause;
use crate::usage::rules::{LedgerEntry, LedgerKind};

/// How long event markers are kept (Stripe retries for three days).
const EVENT_MARKER_DAYS: i64 = 30;

fn event_key(event_id: &str) -> keys::Key {
    keys::Key { pk: format!("STRIPE_EVENT#{event_id}"), sk: "EVENT".into() }
}

fn customer_key(customer_id: &str) -> keys::Key {
    keys::Key { pk: format!("STRIPE#{customer_id}"), sk: "CUSTOMER".into() }
}

fn purchase_key(payment_ref: &str) -> keys::Key {
    keys::Key { pk: format!("STRIPE_PAYMENT#{payment_ref}"), sk: "PURCHASE".into() }
}

pub fn subscription_key(org: &OrganizationId) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: "SUBSCRIPTION".into() }
}

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Dynamo { operation: "TransactWriteItems", message: e.to_string() }
}

/// What the webhook should do with an event it has just verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// First time seen: hand it off.
    New,
    /// Seen, but an earlier attempt may have died before the hand-off: hand it off again (the
    /// FIFO queue's deduplication id keeps it single).
    Unconfirmed,
    /// Already handed off or processed: acknowledge without doing anything.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct EventMarker {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    status: String,
    event_type: String,
    created: i64,
    received_at: DateTime<Utc>,
    expires_at: i64,
}

/// A purchase made through Checkout, kept to reverse it exactly when refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    /// `credits`, `pack` or `lifetime`.
    pub kind: String,
    pub checkout_session_id: String,
    pub paid_cents: Cents,
    /// Credits granted for it (a pack may grant more than was paid).
    pub credited_cents: Cents,
    /// Part of `paid_cents` already refunded and reversed.
    pub reversed_paid_cents: Cents,
    pub created_at: DateTime<Utc>,
}

impl Purchase {
    pub fn new(
        org: &OrganizationId,
        payment_ref: &str,
        kind: &str,
        session: &str,
        paid: Cents,
        credited: Cents,
        now: DateTime<Utc>,
    ) -> Self {
        let key = purchase_key(payment_ref);
        Self {
            pk: key.pk,
            sk: key.sk,
            organization_id: org.clone(),
            kind: kind.to_owned(),
            checkout_session_id: session.to_owned(),
            paid_cents: paid,
            credited_cents: credited,
            reversed_paid_cents: 0,
            created_at: now,
        }
    }
}

/// A payment Stripe collected for an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub stripe_invoice_id: String,
    pub amount_paid_cents: Cents,
    pub billing_reason: Option<String>,
    pub paid_at: DateTime<Utc>,
}

impl Payment {
    pub fn new(
        org: &OrganizationId,
        invoice_id: &str,
        amount: Cents,
        reason: Option<String>,
        paid_at: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: keys::org_partition(org),
            sk: format!("PAYMENT#{invoice_id}"),
            organization_id: org.clone(),
            stripe_invoice_id: invoice_id.to_owned(),
            amount_paid_cents: amount,
            billing_reason: reason,
            paid_at,
        }
    }
}

/// The organization's subscription as Stripe last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub stripe_subscription_id: Option<String>,
    pub stripe_price_id: Option<String>,
    pub tier: String,
    pub status: String,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
    pub is_lifetime: bool,
    pub lifetime_purchase_date: Option<DateTime<Utc>>,
    pub lifetime_purchase_amount_cents: Option<Cents>,
    /// Stripe `created` time of the event this state came from.
    pub source_event_created: i64,
    /// [`event_rank`](crate::subscriptions::rules::event_rank) of that event: an event of the
    /// same subscription is written only over a rank not above its own.
    #[serde(default)]
    pub order_rank: Option<i64>,
    /// The subscription object's own `created` (when the customer subscribed): a later
    /// subscription may replace an earlier one, never the other way round.
    #[serde(default)]
    pub subscribed_at: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What must still hold when a subscription state is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionGuard<'a> {
    /// The stored state is of the same subscription and of a rank not above the new one.
    Newer,
    /// The stored state is exactly the one read (its subscription id and rank): another
    /// subscription replaces it.
    Replacing { subscription_id: Option<&'a str>, rank: Option<i64> },
}

const PLAN_PREFIX: &str = "PLAN#";

/// One change of the organization's tier (`ORG#<org>` / `PLAN#<timestamp>#<event id>`),
/// written once with the change it records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub from_tier: String,
    pub to_tier: String,
    /// When the change happened (the Stripe event's `created`).
    pub changed_at: DateTime<Utc>,
    /// Why, in words (event type and the subscription's status).
    pub reason: String,
    /// What made it: `stripe:<event id>`.
    pub source: String,
    /// Why, as a category (absent on entries written before causes were recorded).
    #[serde(default)]
    pub cause: Option<ChangeCause>,
    /// Who or what made it: the requesting user, `stripe`, or an operator.
    #[serde(default)]
    pub actor: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// Why a plan changed and who made it, for its history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub cause: ChangeCause,
    pub actor: String,
    pub reason: String,
}

impl PlanChange {
    /// The entry for a change caused by `cause` (an event id), keyed by it so a redelivery
    /// finds the entry already written.
    pub fn new(
        org: &OrganizationId,
        from_tier: &str,
        to_tier: &str,
        changed_at: DateTime<Utc>,
        cause: &str,
        why: Explanation,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: keys::org_partition(org),
            sk: format!("{PLAN_PREFIX}{}#{cause}", timestamp(changed_at)),
            organization_id: org.clone(),
            from_tier: from_tier.to_owned(),
            to_tier: to_tier.to_owned(),
            changed_at,
            reason: why.reason,
            source: format!("stripe:{cause}"),
            cause: Some(why.cause),
            actor: Some(why.actor),
            recorded_at: now,
        }
    }
}

pub(crate) const INVOICE_FAILED: &str = "failed";

/// How an invoice was closed. Both are final: no later failure event reopens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceClosed {
    Paid,
    Voided,
}

impl InvoiceClosed {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Voided => "void",
        }
    }
}
const INVOICE_STATE_PREFIX: &str = "STRIPEINV#";

pub(crate) fn invoice_state_key(org: &OrganizationId, invoice_id: &str) -> keys::Key {
    keys::Key { pk: keys::org_partition(org), sk: format!("{INVOICE_STATE_PREFIX}{invoice_id}") }
}

/// The latest applied state of one Stripe invoice (`ORG#<org>` / `STRIPEINV#<invoice>`):
/// what decides suspension, whatever order Stripe's events arrive in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceState {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub stripe_invoice_id: String,
    /// `failed`, or `paid` / `void` (final).
    pub status: String,
    pub attempt_count: u32,
    /// Stripe `created` of the event that set this state.
    pub last_event_created: i64,
    pub updated_at: DateTime<Utc>,
}

impl InvoiceState {
    fn new(
        org: &OrganizationId,
        invoice_id: &str,
        status: &str,
        attempt_count: u32,
        created: i64,
        now: DateTime<Utc>,
    ) -> Self {
        let key = invoice_state_key(org, invoice_id);
        Self {
            pk: key.pk,
            sk: key.sk,
            organization_id: org.clone(),
            stripe_invoice_id: invoice_id.to_owned(),
            status: status.to_owned(),
            attempt_count,
            last_event_created: created,
            updated_at: now,
        }
    }
}

impl Store {
    pub async fn receive_stripe_event(
        &self,
        event_id: &str,
        event_type: &str,
        created: i64,
        now: DateTime<Utc>,
    ) -> Result<Receipt, StoreError> {
        let key = event_key(event_id);
        let marker = EventMarker {
            pk: key.pk.clone(),
            sk: key.sk.clone(),
            status: "received".into(),
            event_type: event_type.to_owned(),
            created,
            received_at: now,
            expires_at: (now + chrono::Duration::days(EVENT_MARKER_DAYS)).timestamp(),
        };
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&marker)?))
            .condition_expression("attribute_not_exists(PK)");
        // One attempt: sent again after a lost answer, the put would find its own marker and
        // take the event for one seen before. A failure answers Stripe 5xx, and Stripe sends
        // the event again.
        match self.put_checked(put, Retry::Never).await? {
            Checked::Written(()) => Ok(Receipt::New),
            Checked::Refused(seen) => {
                let status = seen.as_ref().and_then(|i| i.get("status")).and_then(|s| s.as_s().ok()).cloned();
                Ok(if status.as_deref() == Some("received") { Receipt::Unconfirmed } else { Receipt::Duplicate })
            }
        }
    }

    /// Moves an event marker forward (`received` → `queued` → `processed`), never back. The
    /// queue may hand the event to the processor before the webhook has recorded the
    /// hand-off, so a late `queued` must not overwrite `processed`: only `processed` is
    /// written whatever the marker says. Returns whether the marker moved.
    pub async fn set_stripe_event_status(&self, event_id: &str, status: &str) -> Result<bool, StoreError> {
        let update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&event_key(event_id))))
            .update_expression("SET #s = :s")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", AttributeValue::S(status.into()));
        let update = if status == "processed" {
            update
        } else {
            update
                .condition_expression("attribute_not_exists(#s) OR #s <> :processed")
                .expression_attribute_values(":processed", AttributeValue::S("processed".into()))
        };
        written("UpdateItem", update.send().await)
    }

    pub async fn stripe_event_status(&self, event_id: &str) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct Status {
            status: String,
        }
        Ok(self.get_item::<Status>(event_key(event_id)).await?.map(|s| s.status))
    }

    /// Removes the marker of an event whose hand-off failed, so Stripe's retry is not taken
    /// for a duplicate. Only a marker still `received` is removed.
    pub async fn forget_stripe_event(&self, event_id: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&event_key(event_id))))
            .condition_expression("#s = :received")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":received", AttributeValue::S("received".into()))
            .send()
            .await;
        // Already moved on to `queued`: keep it.
        written("DeleteItem", result).map(drop)
    }

    /// Records that `customer_id` belongs to `org` (both directions), and the billing email
    /// Stripe collected, when known (lowercased: operators search it exactly).
    pub async fn link_customer(
        &self,
        org: &OrganizationId,
        customer_id: &str,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut map = key_item(&customer_key(customer_id));
        map.insert("organization_id".into(), AttributeValue::S(org.to_string()));
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(map))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("PutItem", e))?;
        let email = email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":c", AttributeValue::S(customer_id.into()));
        update = match email {
            Some(email) => update
                .update_expression("SET stripe_customer_id = :c, billing_email = :e")
                .expression_attribute_values(":e", AttributeValue::S(email)),
            None => update.update_expression("SET stripe_customer_id = :c"),
        };
        update.send().await.map_err(|e| StoreError::from_sdk("UpdateItem", e))?;
        Ok(())
    }

    pub async fn org_for_customer(&self, customer_id: &str) -> Result<Option<OrganizationId>, StoreError> {
        #[derive(Deserialize)]
        struct Map {
            organization_id: OrganizationId,
        }
        Ok(self.get_item::<Map>(customer_key(customer_id)).await?.map(|m| m.organization_id))
    }

    /// Grants a purchase's credits with its ledger entry, once: `false` if already granted.
    pub async fn grant_purchase(&self, purchase: &Purchase, entry: &LedgerEntry) -> Result<bool, StoreError> {
        let org = &purchase.organization_id;
        let put_new = |item| {
            Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(build_err)
        };
        let credit = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression("ADD credit_balance_cents :amount, version :one SET updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":amount", AttributeValue::N(purchase.credited_cents.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":now", AttributeValue::S(timestamp(entry.created_at)))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(put_new(encode(purchase)?)?).build(),
            TransactWriteItem::builder().update(credit).build(),
            TransactWriteItem::builder().put(put_new(encode(entry)?)?).build(),
        ];
        // One attempt, as this write always made: a failure returns the event to its queue,
        // whose redelivery grants the purchase or finds it granted. The purchase (item 0)
        // decides whether it is new; any other failed condition (no account) is an error.
        self.transact(items, Retry::Never).await?.committed_unless(0)
    }

    pub async fn purchase(&self, payment_ref: &str) -> Result<Option<Purchase>, StoreError> {
        self.get_item(purchase_key(payment_ref)).await
    }

    /// Reverses the credits of a refunded purchase up to `refunded_paid` (Stripe's cumulative
    /// refunded amount), proportionally to what was credited. The balance may go negative:
    /// credits already spent are owed, not hidden. Returns the credits taken back.
    pub async fn reverse_purchase(
        &self,
        purchase: &Purchase,
        refunded_paid: Cents,
        now: DateTime<Utc>,
    ) -> Result<Cents, StoreError> {
        let delta_paid = refunded_paid.min(purchase.paid_cents) - purchase.reversed_paid_cents;
        if delta_paid <= 0 || purchase.paid_cents == 0 {
            return Ok(0);
        }
        // Reverse by cumulative totals so rounding never drifts across partial refunds.
        let credited_at = |paid: Cents| {
            (i128::from(purchase.credited_cents) * i128::from(paid) / i128::from(purchase.paid_cents)) as Cents
        };
        let reversed =
            credited_at(purchase.reversed_paid_cents + delta_paid) - credited_at(purchase.reversed_paid_cents);
        let org = &purchase.organization_id;
        let payment_ref = purchase.pk.trim_start_matches("STRIPE_PAYMENT#");
        let mut entry = LedgerEntry::new(
            org,
            LedgerKind::Refund,
            -reversed,
            format!("refund-{payment_ref}-{}", purchase.reversed_paid_cents + delta_paid),
            format!("refund of {} purchase {}", purchase.kind, purchase.checkout_session_id),
            "stripe",
            now,
        );
        entry.run_id = None;
        let mark = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&purchase_key(payment_ref))))
            .update_expression("SET reversed_paid_cents = :new")
            .condition_expression("reversed_paid_cents = :old")
            .expression_attribute_values(
                ":new",
                AttributeValue::N((purchase.reversed_paid_cents + delta_paid).to_string()),
            )
            .expression_attribute_values(":old", AttributeValue::N(purchase.reversed_paid_cents.to_string()))
            .build()
            .map_err(build_err)?;
        let debit = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression("ADD credit_balance_cents :amount, version :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":amount", AttributeValue::N((-reversed).to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_err)?;
        let ledger = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(&entry)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().update(mark).build(),
            TransactWriteItem::builder().update(debit).build(),
            TransactWriteItem::builder().put(ledger).build(),
        ];
        // One attempt, as this write always made: a failure returns the event to its queue.
        // The mark (item 0) decides: when its condition fails, another delivery reversed it
        // first; any other failed condition (no account) is an error.
        let reversed_here = self.transact(items, Retry::Never).await?.committed_unless(0)?;
        Ok(if reversed_here { reversed } else { 0 })
    }

    pub async fn subscription(&self, org: &OrganizationId) -> Result<Option<SubscriptionItem>, StoreError> {
        self.get_item(subscription_key(org)).await
    }

    /// Stores `state` if `guard` still holds: `false` when it does not (a newer event of the
    /// same subscription applied, or the subscription read before has changed meanwhile).
    pub async fn put_subscription(
        &self,
        state: &SubscriptionItem,
        guard: SubscriptionGuard<'_>,
    ) -> Result<bool, StoreError> {
        let mut request = self.client().put_item().table_name(self.table()).set_item(Some(encode(state)?));
        match guard {
            SubscriptionGuard::Newer => {
                let (Some(id), Some(rank)) = (&state.stripe_subscription_id, state.order_rank) else {
                    return Err(StoreError::Dynamo {
                        operation: "PutItem",
                        message: "a subscription state without id or rank cannot be ordered".into(),
                    });
                };
                // A lifetime purchase applied meanwhile is kept: the write is refused and retried.
                request = request
                    .condition_expression(
                        "stripe_subscription_id = :sid AND (attribute_not_exists(order_rank) OR order_rank <= :rank) \
                         AND is_lifetime = :lt",
                    )
                    .expression_attribute_values(":lt", AttributeValue::Bool(state.is_lifetime))
                    .expression_attribute_values(":sid", AttributeValue::S(id.clone()))
                    .expression_attribute_values(":rank", AttributeValue::N(rank.to_string()));
            }
            SubscriptionGuard::Replacing { subscription_id: None, .. } => {
                // Nothing stored yet, or a state no subscription wrote (a lifetime plan).
                request = request
                    .condition_expression(
                        "attribute_not_exists(PK) OR ((attribute_not_exists(stripe_subscription_id) \
                         OR attribute_type(stripe_subscription_id, :null)) AND is_lifetime = :lt)",
                    )
                    .expression_attribute_values(":null", AttributeValue::S("NULL".into()))
                    .expression_attribute_values(":lt", AttributeValue::Bool(state.is_lifetime));
            }
            SubscriptionGuard::Replacing { subscription_id: Some(current), rank } => {
                request = request
                    .expression_attribute_values(":cur", AttributeValue::S(current.into()))
                    .expression_attribute_values(":lt", AttributeValue::Bool(state.is_lifetime))
                    .condition_expression(match rank {
                        Some(_) => "stripe_subscription_id = :cur AND order_rank = :currank AND is_lifetime = :lt",
                        None => {
                            "stripe_subscription_id = :cur AND attribute_not_exists(order_rank) AND is_lifetime = :lt"
                        }
                    });
                if let Some(rank) = rank {
                    request = request.expression_attribute_values(":currank", AttributeValue::N(rank.to_string()));
                }
            }
        }
        written("PutItem", request.send().await)
    }

    /// Records the lifetime purchase on the subscription item, keeping whatever subscription
    /// it describes (creating a lifetime-only item if there is none).
    pub async fn mark_lifetime(
        &self,
        org: &OrganizationId,
        purchased_at: DateTime<Utc>,
        paid: Cents,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&subscription_key(org))))
            .update_expression(
                "SET is_lifetime = :t, lifetime_purchase_date = :at, lifetime_purchase_amount_cents = :paid, \
                 updated_at = :now, organization_id = if_not_exists(organization_id, :org), \
                 tier = if_not_exists(tier, :lifetime), #st = if_not_exists(#st, :active), \
                 cancel_at_period_end = if_not_exists(cancel_at_period_end, :f), \
                 source_event_created = if_not_exists(source_event_created, :created), \
                 created_at = if_not_exists(created_at, :now)",
            )
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":at", AttributeValue::S(timestamp(purchased_at)))
            .expression_attribute_values(":paid", AttributeValue::N(paid.to_string()))
            .expression_attribute_values(":now", AttributeValue::S(timestamp(now)))
            .expression_attribute_values(":org", AttributeValue::S(org.to_string()))
            .expression_attribute_values(":lifetime", AttributeValue::S("lifetime".into()))
            .expression_attribute_values(":active", AttributeValue::S("active".into()))
            .expression_attribute_values(":created", AttributeValue::N(purchased_at.timestamp().to_string()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("UpdateItem", e))?;
        Ok(())
    }

    /// Takes the lifetime plan away (its purchase was refunded); the subscription part stays.
    pub async fn unmark_lifetime(&self, org: &OrganizationId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&subscription_key(org))))
            .update_expression("SET is_lifetime = :f, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":now", AttributeValue::S(timestamp(now)))
            .send()
            .await;
        written("UpdateItem", result)
    }

    /// Records that Stripe was told to end `subscription` at its period end.
    pub async fn set_cancel_at_period_end(
        &self,
        org: &OrganizationId,
        subscription: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&subscription_key(org))))
            .update_expression("SET cancel_at_period_end = :t, updated_at = :now")
            .condition_expression("stripe_subscription_id = :sid")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":sid", AttributeValue::S(subscription.into()))
            .expression_attribute_values(":now", AttributeValue::S(timestamp(now)))
            .send()
            .await;
        written("UpdateItem", result)
    }

    /// Puts the account on `tier`. When `usage_period` names a new subscription period, the
    /// period's usage starts again at zero.
    pub async fn set_account_tier(
        &self,
        org: &OrganizationId,
        tier: &str,
        usage_period: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (expression, values) = self.tier_update(org, tier, usage_period, now).await?;
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .condition_expression("attribute_exists(PK)")
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("UpdateItem", e))?;
        Ok(())
    }

    /// Moves the account to another tier together with its history entry, in one transaction,
    /// once per entry: `false` when that entry was already written (the change was applied).
    pub async fn change_plan(
        &self,
        change: &PlanChange,
        usage_period: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let org = &change.organization_id;
        let (expression, values) = self.tier_update(org, &change.to_tier, usage_period, now).await?;
        let account = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .condition_expression("attribute_exists(PK)")
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(build_err)?;
        let history = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(change)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(history).build(),
            TransactWriteItem::builder().update(account).build(),
        ];
        // One attempt, as this write always made: its caller (a Stripe event's delivery, a
        // customer's request) is retried whole. The history entry (item 0) decides whether the
        // change is new; any other failed condition (no account) is an error.
        self.transact(items, Retry::Never).await?.committed_unless(0)
    }

    /// The organization's plan history, oldest first.
    pub async fn plan_history(&self, org: &OrganizationId) -> Result<Vec<PlanChange>, StoreError> {
        let page = self
            .prefix_query(keys::org_partition(org), PLAN_PREFIX)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("Query", e))?;
        let decode = |item| {
            serde_dynamo::from_item(item).map_err(|source| StoreError::Decode {
                pk: keys::org_partition(org),
                sk: PLAN_PREFIX.to_owned(),
                source,
            })
        };
        page.items.unwrap_or_default().into_iter().map(decode).collect()
    }

    /// The update expression and values that put the account on `tier`, resetting the period's
    /// usage when `usage_period` is later than the stored one (the same period keeps it: events repeat).
    async fn tier_update(
        &self,
        org: &OrganizationId,
        tier: &str,
        usage_period: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(String, std::collections::HashMap<String, AttributeValue>), StoreError> {
        let mut values = std::collections::HashMap::from([
            (":tier".to_owned(), AttributeValue::S(tier.into())),
            (":now".to_owned(), AttributeValue::S(timestamp(now))),
            (":one".to_owned(), AttributeValue::N("1".into())),
        ]);
        let mut set = "tier = :tier, updated_at = :now".to_owned();
        if let Some(period) = usage_period {
            let account = self.get_account(org).await?;
            // Periods only move forward: a late event for an earlier period (or a month key
            // after a subscription's period key) never restarts the count.
            if account.is_some_and(|a| period > a.usage_period.as_str()) {
                set.push_str(", usage_period = :period, period_used = :zero");
                values.insert(":period".into(), AttributeValue::S(period.into()));
                values.insert(":zero".into(), AttributeValue::N("0".into()));
            }
        }
        Ok((format!("SET {set} ADD version :one"), values))
    }

    /// Applies a failed payment attempt to the invoice's state with its `PaymentFailed`
    /// outbox event, in one transaction. Refused (`false`) when the invoice is known paid or
    /// a newer attempt was already applied; an identical redelivery applies again harmlessly.
    pub async fn record_invoice_failure(
        &self,
        org: &OrganizationId,
        invoice_id: &str,
        attempt_count: u32,
        created: i64,
        failed: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state = InvoiceState::new(org, invoice_id, INVOICE_FAILED, attempt_count, created, now);
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(encode(&state)?))
            // A closed invoice stays closed; otherwise order by Stripe time, then by attempt
            // within the same second.
            .condition_expression(
                "attribute_not_exists(PK) OR (#st = :failed AND (last_event_created < :c OR \
                 (last_event_created = :c AND attempt_count <= :a)))",
            )
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":failed", AttributeValue::S(INVOICE_FAILED.into()))
            .expression_attribute_values(":c", AttributeValue::N(created.to_string()))
            .expression_attribute_values(":a", AttributeValue::N(attempt_count.to_string()))
            .build()
            .map_err(build_err)?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().put(outbox_put(self.table(), failed, now)?).build(),
        ];
        // One attempt, as this write always made: a failure returns the event to its queue,
        // and the redelivery applies it again harmlessly.
        self.transact(items, Retry::Never).await?.committed()
    }

    /// Closes the invoice (paid or voided), unless it already is: `false` when it was closed
    /// before. No later failure event can reopen it.
    pub async fn record_invoice_closed(
        &self,
        org: &OrganizationId,
        invoice_id: &str,
        closed: InvoiceClosed,
        created: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state = InvoiceState::new(org, invoice_id, closed.as_str(), 0, created, now);
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(&state)?))
            .condition_expression("attribute_not_exists(PK) OR #st = :failed")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":failed", AttributeValue::S(INVOICE_FAILED.into()))
            .send()
            .await;
        written("PutItem", result)
    }

    /// Stripe invoices whose failed payments suspend the account on their own (not paid, at
    /// least `threshold` failed attempts), oldest id first.
    pub async fn failed_invoices(&self, org: &OrganizationId, threshold: u32) -> Result<Vec<String>, StoreError> {
        let query = self
            .prefix_query(keys::org_partition(org), INVOICE_STATE_PREFIX)
            .filter_expression("#st = :failed AND attempt_count >= :n")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":failed", AttributeValue::S(INVOICE_FAILED.into()))
            .expression_attribute_values(":n", AttributeValue::N(threshold.to_string()));
        let read = self.query_pages(query, None, Reach::All).await?;
        Ok(read.items.iter().filter_map(|item| item.get("stripe_invoice_id")?.as_s().ok().cloned()).collect())
    }

    /// Records a paid Stripe invoice (`ORG#<org>` / `PAYMENT#<invoice>`), once.
    pub async fn record_payment(&self, payment: &Payment) -> Result<bool, StoreError> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(encode(payment)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        written("PutItem", result)
    }

    pub async fn set_has_payment_method(&self, org: &OrganizationId, has: bool) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::account(org))))
            .update_expression("SET has_payment_method = :h ADD version :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":h", AttributeValue::Bool(has))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("UpdateItem", e))?;
        Ok(())
    }
}
