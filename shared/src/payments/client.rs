//! The Stripe API client, built once per process from configuration (pointed at stripe-mock
//! locally). Every call maps failures to [`PaymentError`], which the API answers with 502.

use std::collections::HashMap;

use serde_json::Value;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionDiscounts, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionSubscriptionData, ProductData,
};
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_core::customer::{CreateCustomer, RetrieveCustomer, UpdateCustomer, UpdateCustomerInvoiceSettings};
use stripe_payment::payment_method::{
    AttachPaymentMethod, DetachPaymentMethod, ListPaymentMethod, RetrievePaymentMethod,
};
use stripe_shared::CheckoutSessionMode;

use super::transport::{RetryPolicy, StripeFailure, StripeHttp};
use crate::config::StripeConfig;
use crate::ids::OrganizationId;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("Stripe is not configured (no secret key)")]
    NotConfigured,
    #[error("Stripe request failed: {0}")]
    Stripe(#[from] StripeFailure),
    #[error("invalid idempotency key: {0}")]
    IdempotencyKey(String),
    #[error("Stripe has no such {0}")]
    NotFound(&'static str),
    #[error("Stripe answered without the expected field: {0}")]
    Unexpected(&'static str),
}

impl PaymentError {
    /// Stripe's own "no such object" answer for a lookup, told apart from a failure.
    pub(crate) fn or_not_found(err: StripeFailure, what: &'static str) -> Self {
        match err.status() {
            Some(404) => Self::NotFound(what),
            _ => Self::Stripe(err),
        }
    }
}

/// What a Checkout session sells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutItem {
    /// A configured Stripe price (tiers, packs, lifetime).
    Price(String),
    /// An ad-hoc one-time amount in cents (credit purchases).
    Amount { cents: i64, name: String },
    /// An ad-hoc monthly price of a product (a launch offer's first phase).
    Monthly { cents: i64, product: String },
}

#[derive(Debug, Clone)]
pub struct CheckoutSpec {
    pub customer: String,
    pub subscription: bool,
    pub item: CheckoutItem,
    /// Copied to the session and to its payment or subscription, so webhooks know the org.
    pub metadata: HashMap<String, String>,
    pub success_url: String,
    pub cancel_url: String,
    /// A promotion code applied to the session (held for the organization beforehand).
    /// Customers cannot type codes in Checkout: every code goes through our rules.
    pub promotion_code: Option<String>,
    /// When the session closes (Unix seconds); Stripe's default (24 hours) otherwise.
    pub expires_at: Option<i64>,
    /// A subscription's free trial: Checkout then asks for a card only if needed, and a trial
    /// that ends without one cancels the subscription (the account falls back to free).
    pub trial_days: Option<u32>,
    pub idempotency_key: String,
}

/// A price change at the end of the current period.
#[derive(Debug, Clone)]
pub struct ScheduledChange<'a> {
    pub subscription: &'a str,
    pub current_price: &'a str,
    pub next_price: &'a str,
    pub period_start: i64,
    pub period_end: i64,
}

/// A customer's saved payment method, as far as billing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPaymentMethod {
    pub id: String,
    pub kind: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
}

#[derive(Clone)]
pub struct StripeApi {
    client: StripeHttp,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeApi")
    }
}

impl StripeApi {
    /// `None` when no secret key is configured.
    pub fn from_config(config: &StripeConfig) -> Result<Option<Self>, PaymentError> {
        let Some(secret) = &config.secret_key else { return Ok(None) };
        let client = StripeHttp::new(secret.expose(), config.api_base.as_deref(), RetryPolicy::default())?;
        Ok(Some(Self { client }))
    }

    pub fn client(&self) -> &StripeHttp {
        &self.client
    }

    /// Creates the organization's Stripe customer. The idempotency key makes a retried call
    /// return the first customer instead of creating a second.
    pub async fn create_customer(
        &self,
        org: &OrganizationId,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<String, PaymentError> {
        let mut request = CreateCustomer::new()
            .metadata(HashMap::from([("organization_id".to_owned(), org.to_string())]))
            .description(format!("Billing account of organization {org}"));
        if let Some(email) = email {
            request = request.email(email);
        }
        let customer = self.send_for_json(request.build(), Some(idempotency_key)).await?;
        Ok(string_field(&customer, "id")?.to_owned())
    }

    pub async fn create_checkout(&self, spec: CheckoutSpec) -> Result<(String, String), PaymentError> {
        let line = match &spec.item {
            CheckoutItem::Price(price) => {
                let mut line = CreateCheckoutSessionLineItems::new();
                line.price = Some(price.clone());
                line.quantity = Some(1);
                line
            }
            CheckoutItem::Amount { cents, name } => {
                let mut price = CreateCheckoutSessionLineItemsPriceData::new(stripe_types::Currency::USD);
                price.unit_amount = Some(*cents);
                price.product_data = Some(ProductData::new(name.clone()));
                let mut line = CreateCheckoutSessionLineItems::new();
                line.price_data = Some(price);
                line.quantity = Some(1);
                line
            }
            CheckoutItem::Monthly { cents, product } => {
                use stripe_checkout::checkout_session::{
                    CreateCheckoutSessionLineItemsPriceDataRecurring as Recurring,
                    CreateCheckoutSessionLineItemsPriceDataRecurringInterval as Interval,
                };
                let mut price = CreateCheckoutSessionLineItemsPriceData::new(stripe_types::Currency::USD);
                price.unit_amount = Some(*cents);
                price.product = Some(product.clone());
                price.recurring = Some(Recurring::new(Interval::Month));
                let mut line = CreateCheckoutSessionLineItems::new();
                line.price_data = Some(price);
                line.quantity = Some(1);
                line
            }
        };
        let mut request = CreateCheckoutSession::new()
            .customer(spec.customer)
            .line_items(vec![line])
            .metadata(spec.metadata.clone())
            .success_url(spec.success_url)
            .cancel_url(spec.cancel_url);
        if let Some(code) = spec.promotion_code {
            let mut discount = CreateCheckoutSessionDiscounts::new();
            discount.promotion_code = Some(code);
            request = request.discounts(vec![discount]);
        }
        if let Some(at) = spec.expires_at {
            request = request.expires_at(at);
        }
        if spec.subscription {
            let mut data = CreateCheckoutSessionSubscriptionData::new();
            data.metadata = Some(spec.metadata);
            if let Some(days) = spec.trial_days {
                use stripe_checkout::checkout_session::{
                    CreateCheckoutSessionPaymentMethodCollection as Collection,
                    CreateCheckoutSessionSubscriptionDataTrialSettings as TrialSettings,
                    CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehavior as EndBehavior,
                    CreateCheckoutSessionSubscriptionDataTrialSettingsEndBehaviorMissingPaymentMethod as Missing,
                };
                data.trial_period_days = Some(days);
                data.trial_settings = Some(TrialSettings::new(EndBehavior::new(Missing::Cancel)));
                request = request.payment_method_collection(Collection::IfRequired);
            }
            request = request.mode(CheckoutSessionMode::Subscription).subscription_data(data);
        } else {
            let mut data = CreateCheckoutSessionPaymentIntentData::new();
            data.metadata = Some(spec.metadata);
            request = request.mode(CheckoutSessionMode::Payment).payment_intent_data(data);
        }
        let session = self.send_for_json(request.build(), Some(&spec.idempotency_key)).await?;
        let url = session["url"].as_str().unwrap_or_default().to_owned();
        Ok((url, string_field(&session, "id")?.to_owned()))
    }

    pub async fn create_portal(&self, customer: &str, return_url: &str) -> Result<String, PaymentError> {
        let request = CreateBillingPortalSession::new().customer(customer).return_url(return_url);
        let session = self.send_for_json(request.build(), None).await?;
        Ok(string_field(&session, "url")?.to_owned())
    }

    /// Lets the subscription run to the end of its paid period and renew no more. The
    /// idempotency key makes a repeated call (a redelivered event) one request.
    pub async fn cancel_at_period_end(&self, subscription: &str, idempotency_key: &str) -> Result<(), PaymentError> {
        self.set_cancel_at_period_end(subscription, true, idempotency_key).await.map(|_| ())
    }

    /// Sets or clears the subscription's cancellation at period end; Stripe's answer is the
    /// subscription as it now stands.
    pub async fn set_cancel_at_period_end(
        &self,
        subscription: &str,
        cancel: bool,
        idempotency_key: &str,
    ) -> Result<Value, PaymentError> {
        let form = serde_json::json!({ "cancel_at_period_end": cancel });
        self.subscription_request(StripeMethod::Post, subscription, Some(&form), Some(idempotency_key)).await
    }

    /// Ends the subscription now; the unused part of the period is credited to the customer
    /// (a proration on a final invoice issued at once).
    pub async fn cancel_now(&self, subscription: &str, idempotency_key: &str) -> Result<Value, PaymentError> {
        let form = serde_json::json!({ "prorate": true, "invoice_now": true });
        self.subscription_request(StripeMethod::Delete, subscription, Some(&form), Some(idempotency_key)).await
    }

    /// The cheapest authenticated call there is (the account's balance), for the operators'
    /// health view: it proves both that Stripe answers and that the key is accepted.
    pub async fn ping(&self) -> Result<(), PaymentError> {
        self.send_json(StripeMethod::Get, "/balance", None, None).await?;
        Ok(())
    }

    pub async fn subscription(&self, subscription: &str) -> Result<Value, PaymentError> {
        self.subscription_request(StripeMethod::Get, subscription, None, None).await
    }

    /// One call on `/subscriptions/{id}`; Stripe's "no such subscription" is told apart.
    async fn subscription_request(
        &self,
        method: StripeMethod,
        subscription: &str,
        form: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, PaymentError> {
        self.send_json(method, &format!("/subscriptions/{subscription}"), form, idempotency_key)
            .await
            .map_err(|e| PaymentError::or_not_found(e, "subscription"))
    }

    /// Moves the subscription's item to `price` now, invoicing the proration at once. With
    /// `pending_if_incomplete` Stripe keeps the old price until that invoice is paid (the
    /// answer then carries a `pending_update`).
    pub async fn change_price_now(
        &self,
        subscription: &str,
        item: &str,
        price: &str,
        idempotency_key: &str,
    ) -> Result<Value, PaymentError> {
        let form = serde_json::json!({
            "items": [{ "id": item, "price": price }],
            "proration_behavior": "always_invoice",
            "payment_behavior": "pending_if_incomplete",
        });
        self.subscription_request(StripeMethod::Post, subscription, Some(&form), Some(idempotency_key)).await
    }

    /// Schedules the subscription to move from `current` to `next` price at `period_end`,
    /// without proration: a schedule taken over from the subscription with two phases.
    /// Returns the schedule's id.
    pub async fn schedule_price_change(
        &self,
        change: &ScheduledChange<'_>,
        idempotency_key: &str,
    ) -> Result<String, PaymentError> {
        let schedule = self.schedule_from(change.subscription, idempotency_key).await?;
        let phases = serde_json::json!({
            "end_behavior": "release",
            "phases": [
                { "items": [{ "price": change.current_price }], "start_date": change.period_start, "end_date": change.period_end },
                { "items": [{ "price": change.next_price }], "proration_behavior": "none" },
            ],
        });
        self.send_json(
            StripeMethod::Post,
            &format!("/subscription_schedules/{schedule}"),
            Some(&phases),
            Some(&format!("{idempotency_key}-phases")),
        )
        .await?;
        Ok(schedule)
    }

    /// A schedule taking the subscription over as it stands (one phase, to be replaced by
    /// the caller's); the key's `-create` variant makes a retry return the same schedule.
    pub(crate) async fn schedule_from(
        &self,
        subscription: &str,
        idempotency_key: &str,
    ) -> Result<String, PaymentError> {
        let created = self
            .send_json(
                StripeMethod::Post,
                "/subscription_schedules",
                Some(&serde_json::json!({ "from_subscription": subscription })),
                Some(&format!("{idempotency_key}-create")),
            )
            .await
            .map_err(|e| PaymentError::or_not_found(e, "subscription"))?;
        Ok(created["id"].as_str().ok_or(PaymentError::Unexpected("schedule without id"))?.to_owned())
    }

    /// Lets go of a schedule: the subscription stays as it is now and the scheduled change
    /// is dropped.
    pub async fn release_schedule(&self, schedule: &str, idempotency_key: &str) -> Result<(), PaymentError> {
        self.send_json(
            StripeMethod::Post,
            &format!("/subscription_schedules/{schedule}/release"),
            Some(&serde_json::json!({})),
            Some(idempotency_key),
        )
        .await
        .map_err(|e| PaymentError::or_not_found(e, "subscription schedule"))?;
        Ok(())
    }

    /// Stripe's preview of the invoice moving the subscription's item to `price` would
    /// produce now (the proration), without changing anything.
    pub async fn preview_price_change(
        &self,
        customer: &str,
        subscription: &str,
        item: &str,
        price: &str,
    ) -> Result<Value, PaymentError> {
        let form = serde_json::json!({
            "customer": customer,
            "subscription": subscription,
            "subscription_details": {
                "items": [{ "id": item, "price": price }],
                "proration_behavior": "always_invoice",
            },
        });
        self.send_json(StripeMethod::Post, "/invoices/create_preview", Some(&form), None).await.map_err(Into::into)
    }

    /// One request whose answer is read as plain JSON, so an object shape newer (or older, as
    /// stripe-mock's) than this library's never fails a request Stripe has carried out.
    pub(crate) async fn send_json(
        &self,
        method: StripeMethod,
        path: &str,
        form: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, StripeFailure> {
        let mut request = RequestBuilder::new(method, path);
        if let Some(form) = form {
            // Flattened here: the client's encoder stops at five levels of nesting, and a
            // schedule phase's inline price (`phases[1][items][0][price_data][recurring]
            // [interval]`) is six.
            request = request.form(&flat_form(form));
        }
        self.send_for_json(request, idempotency_key).await
    }

    /// Sends a request built by the typed builders, or by hand, and reads the answer as plain
    /// JSON: billing reads one or two fields of each answer, and an object shape newer (or
    /// older, as stripe-mock's) than this library's never fails a request Stripe carried out.
    /// With the typed answers and the typed error parse both gone (see [`super::transport`]),
    /// the functions calling Stripe link only the request shapes, none of Stripe's objects.
    async fn send_for_json(
        &self,
        request: RequestBuilder,
        idempotency_key: Option<&str>,
    ) -> Result<Value, StripeFailure> {
        let mut request = request.customize::<miniserde::json::Value>();
        if let Some(key) = idempotency_key {
            let key = IdempotencyKey::new(key).map_err(|e| StripeFailure::InvalidRequest(e.to_string()))?;
            request = request.request_strategy(RequestStrategy::Idempotent(key));
        }
        let answer = request.send(&self.client).await?;
        serde_json::from_str(&miniserde::json::to_string(&answer)).map_err(|e| StripeFailure::Unreadable(e.to_string()))
    }

    /// Attaches a payment method (created by Stripe.js) to the customer.
    pub async fn attach_payment_method(
        &self,
        customer: &str,
        payment_method: &str,
    ) -> Result<SavedPaymentMethod, PaymentError> {
        let request = AttachPaymentMethod::new(payment_method).customer(customer);
        let pm = self
            .send_for_json(request.build(), None)
            .await
            .map_err(|e| PaymentError::or_not_found(e, "payment method"))?;
        Ok(saved(&pm)?)
    }

    pub async fn set_default_payment_method(&self, customer: &str, payment_method: &str) -> Result<(), PaymentError> {
        let mut settings = UpdateCustomerInvoiceSettings::new();
        settings.default_payment_method = Some(payment_method.to_owned());
        self.send_for_json(UpdateCustomer::new(customer).invoice_settings(settings).build(), None).await?;
        Ok(())
    }

    pub async fn default_payment_method(&self, customer: &str) -> Result<Option<String>, PaymentError> {
        let customer = self.send_for_json(RetrieveCustomer::new(customer).build(), None).await?;
        if customer["deleted"].as_bool() == Some(true) {
            return Ok(None);
        }
        Ok(id_of(&customer["invoice_settings"]["default_payment_method"]))
    }

    /// The payment method and the customer it belongs to, if any.
    pub async fn payment_method_owner(&self, payment_method: &str) -> Result<Option<String>, PaymentError> {
        let pm = self
            .send_for_json(RetrievePaymentMethod::new(payment_method).build(), None)
            .await
            .map_err(|e| PaymentError::or_not_found(e, "payment method"))?;
        Ok(id_of(&pm["customer"]))
    }

    pub async fn detach_payment_method(&self, payment_method: &str) -> Result<(), PaymentError> {
        self.send_for_json(DetachPaymentMethod::new(payment_method).build(), None)
            .await
            .map_err(|e| PaymentError::or_not_found(e, "payment method"))?;
        Ok(())
    }

    /// Opens a Checkout session in setup mode: the customer saves a card for later charges and
    /// pays nothing now. `metadata` goes on the session and on its SetupIntent. Returns the
    /// session's URL and id.
    pub async fn create_setup_checkout(
        &self,
        customer: &str,
        metadata: &HashMap<String, String>,
        (success_url, cancel_url): (&str, &str),
        idempotency_key: &str,
    ) -> Result<(String, String), PaymentError> {
        let form = serde_json::json!({
            "mode": "setup",
            "customer": customer,
            "payment_method_types": ["card"],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": metadata,
            "setup_intent_data": { "metadata": metadata },
        });
        let session =
            self.send_json(StripeMethod::Post, "/checkout/sessions", Some(&form), Some(idempotency_key)).await?;
        let url = session["url"].as_str().unwrap_or_default().to_owned();
        Ok((url, string_field(&session, "id")?.to_owned()))
    }

    /// The payment method a SetupIntent saved, if it saved one (`NotFound` for an unknown id).
    pub async fn setup_intent_payment_method(&self, setup_intent: &str) -> Result<Option<String>, PaymentError> {
        let intent = self
            .send_json(StripeMethod::Get, &format!("/setup_intents/{setup_intent}"), None, None)
            .await
            .map_err(|e| PaymentError::or_not_found(e, "setup intent"))?;
        Ok(id_of(&intent["payment_method"]))
    }

    /// The customer's saved payment methods (first 100).
    pub async fn payment_methods(&self, customer: &str) -> Result<Vec<SavedPaymentMethod>, PaymentError> {
        let list = self.send_for_json(ListPaymentMethod::new().customer(customer).limit(100).build(), None).await?;
        let methods = list["data"].as_array().ok_or_else(|| unexpected("a list without `data`"))?;
        Ok(methods.iter().map(saved).collect::<Result<_, _>>()?)
    }
}

/// A JSON object as Stripe's form fields: `{"a": [{"b": 1}]}` → `a[0][b]=1`, at any depth.
fn flat_form(value: &Value) -> std::collections::BTreeMap<String, String> {
    fn walk(prefix: &str, value: &Value, out: &mut std::collections::BTreeMap<String, String>) {
        let key = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}[{k}]") };
        match value {
            Value::Object(fields) => fields.iter().for_each(|(k, v)| walk(&key(k), v, out)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| walk(&key(&i.to_string()), v, out)),
            Value::Null => {}
            Value::String(s) => {
                out.insert(prefix.to_owned(), s.clone());
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk("", value, &mut out);
    out
}

fn saved(pm: &Value) -> Result<SavedPaymentMethod, StripeFailure> {
    let card = |field: &str| pm["card"][field].as_str().map(str::to_owned);
    Ok(SavedPaymentMethod {
        id: string_field(pm, "id")?.to_owned(),
        kind: string_field(pm, "type")?.to_owned(),
        card_brand: card("brand"),
        card_last4: card("last4"),
    })
}

/// A field every answer of its kind has; its absence means the answer is not what was asked.
fn string_field<'v>(object: &'v Value, field: &str) -> Result<&'v str, StripeFailure> {
    object[field].as_str().ok_or_else(|| unexpected(&format!("an answer without `{field}`")))
}

/// An expandable reference: the id, or the expanded object's id, or nothing.
fn id_of(reference: &Value) -> Option<String> {
    reference.as_str().or_else(|| reference["id"].as_str()).map(str::to_owned)
}

fn unexpected(what: &str) -> StripeFailure {
    StripeFailure::Unreadable(format!("Stripe sent {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_methods_and_references_are_read_from_stripes_json() {
        let card = serde_json::json!({
            "id": "pm_1", "object": "payment_method", "type": "card",
            "card": { "brand": "visa", "last4": "4242", "exp_month": 12 },
            "customer": { "id": "cus_1", "object": "customer" },
        });
        let saved_card = saved(&card).expect("a payment method");
        assert_eq!(
            saved_card,
            SavedPaymentMethod {
                id: "pm_1".into(),
                kind: "card".into(),
                card_brand: Some("visa".into()),
                card_last4: Some("4242".into()),
            }
        );
        let bank = serde_json::json!({ "id": "pm_2", "type": "sepa_debit", "customer": "cus_2" });
        assert_eq!(saved(&bank).expect("a payment method").card_last4, None);
        assert!(saved(&serde_json::json!({ "type": "card" })).is_err(), "no id is not a payment method");

        assert_eq!(id_of(&card["customer"]).as_deref(), Some("cus_1"), "expanded");
        assert_eq!(id_of(&bank["customer"]).as_deref(), Some("cus_2"), "an id");
        assert_eq!(id_of(&serde_json::Value::Null), None);
    }

    #[test]
    fn forms_flatten_to_stripe_field_names_at_any_depth() {
        let form = serde_json::json!({
            "end_behavior": "release",
            "phases": [{ "items": [{ "price_data": { "recurring": { "interval": "month" }, "unit_amount": 1299 } }] }],
            "cancel_at_period_end": false,
            "dropped": null,
        });
        let flat: Vec<(String, String)> = flat_form(&form).into_iter().collect();
        assert_eq!(
            flat,
            vec![
                ("cancel_at_period_end".into(), "false".into()),
                ("end_behavior".into(), "release".into()),
                ("phases[0][items][0][price_data][recurring][interval]".into(), "month".into()),
                ("phases[0][items][0][price_data][unit_amount]".into(), "1299".into()),
            ]
        );
    }
}
