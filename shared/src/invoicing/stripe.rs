//! Stripe invoices that collect ours: created, filled with one invoice item per owed line,
//! finalized and paid — every call with an idempotency key derived from our invoice id, so
//! a retry after an outage midway ends in the same single Stripe invoice.
//!
//! Answers are read as plain JSON (like `cancel_at_period_end`): only a few fields matter,
//! and a shape newer or older than the library's (stripe-mock's) must not fail a done call.

use std::collections::HashMap;

use miniserde::json::Value;
use stripe_billing::invoice::{
    CreateInvoice, CreateInvoicePendingInvoiceItemsBehavior, FinalizeInvoiceInvoice, MarkUncollectibleInvoice,
    PayInvoice, VoidInvoiceInvoice,
};
use stripe_billing::invoice_item::CreateInvoiceItem;
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_shared::InvoiceCollectionMethod;

use crate::payments::client::{PaymentError, StripeApi};

/// What we keep of a Stripe invoice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StripeInvoice {
    pub id: String,
    pub status: Option<String>,
    pub hosted_invoice_url: Option<String>,
    pub invoice_pdf: Option<String>,
    pub amount_paid: i64,
}

impl StripeInvoice {
    fn from_json(value: &Value) -> Result<Self, PaymentError> {
        let Value::Object(object) = value else { return Err(PaymentError::NotFound("invoice in the answer")) };
        let text = |name: &str| match object.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let amount_paid = match object.get("amount_paid") {
            Some(Value::Number(n)) => n.to_string().parse().unwrap_or(0),
            _ => 0,
        };
        Ok(Self {
            id: text("id").ok_or(PaymentError::NotFound("invoice id in the answer"))?,
            status: text("status"),
            hosted_invoice_url: text("hosted_invoice_url"),
            invoice_pdf: text("invoice_pdf"),
            amount_paid,
        })
    }

    pub fn is_paid(&self) -> bool {
        self.status.as_deref() == Some("paid")
    }
}

/// How the Stripe invoice is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// Charged to the default payment method when finalized.
    Automatic,
    /// Sent to the customer, due after this many days.
    SendInvoice { days_until_due: u32 },
}

fn key(raw: &str) -> Result<RequestStrategy, PaymentError> {
    IdempotencyKey::new(raw).map(RequestStrategy::Idempotent).map_err(|e| PaymentError::IdempotencyKey(e.to_string()))
}

impl StripeApi {
    /// Creates the (draft) Stripe invoice for our invoice `invoice_id`; it takes no pending
    /// items of the customer, only the ones added to it by id.
    pub async fn create_invoice(
        &self,
        customer: &str,
        invoice_id: &str,
        collection: Collection,
        description: &str,
        metadata: HashMap<String, String>,
    ) -> Result<StripeInvoice, PaymentError> {
        let mut request = CreateInvoice::new()
            .customer(customer)
            .auto_advance(false)
            .pending_invoice_items_behavior(CreateInvoicePendingInvoiceItemsBehavior::Exclude)
            .description(description)
            .metadata(metadata);
        request = match collection {
            Collection::Automatic => request.collection_method(InvoiceCollectionMethod::ChargeAutomatically),
            Collection::SendInvoice { days_until_due } => {
                request.collection_method(InvoiceCollectionMethod::SendInvoice).days_until_due(days_until_due)
            }
        };
        let answer = request
            .build()
            .customize::<Value>()
            .request_strategy(key(&format!("{invoice_id}-invoice"))?)
            .send(self.client())
            .await?;
        StripeInvoice::from_json(&answer)
    }

    /// Adds one line (`n`-th of our invoice) to the Stripe invoice.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_invoice_item(
        &self,
        customer: &str,
        stripe_invoice: &str,
        invoice_id: &str,
        n: usize,
        amount_cents: i64,
        description: &str,
        metadata: HashMap<String, String>,
    ) -> Result<(), PaymentError> {
        CreateInvoiceItem::new()
            .customer(customer)
            .invoice(stripe_invoice)
            .amount(amount_cents)
            .currency(stripe_types::Currency::USD)
            .description(description)
            .metadata(metadata)
            .build()
            .customize::<Value>()
            .request_strategy(key(&format!("{invoice_id}-item-{n}"))?)
            .send(self.client())
            .await?;
        Ok(())
    }

    /// Finalizes the Stripe invoice; automatic collection then charges it.
    pub async fn finalize_invoice(
        &self,
        stripe_invoice: &str,
        invoice_id: &str,
    ) -> Result<StripeInvoice, PaymentError> {
        let answer = FinalizeInvoiceInvoice::new(stripe_invoice)
            .auto_advance(true)
            .build()
            .customize::<Value>()
            .request_strategy(key(&format!("{invoice_id}-finalize"))?)
            .send(self.client())
            .await?;
        StripeInvoice::from_json(&answer)
    }

    /// Charges the Stripe invoice now with the customer's default payment method.
    pub async fn pay_invoice(
        &self,
        stripe_invoice: &str,
        idempotency_key: &str,
    ) -> Result<StripeInvoice, PaymentError> {
        let answer = PayInvoice::new(stripe_invoice)
            .off_session(true)
            .build()
            .customize::<Value>()
            .request_strategy(key(idempotency_key)?)
            .send(self.client())
            .await?;
        StripeInvoice::from_json(&answer)
    }
}

impl StripeApi {
    /// Voids the Stripe invoice (it stays on record, owed by no one).
    pub async fn void_invoice(&self, stripe_invoice: &str, invoice_id: &str) -> Result<StripeInvoice, PaymentError> {
        let answer = VoidInvoiceInvoice::new(stripe_invoice)
            .build()
            .customize::<Value>()
            .request_strategy(key(&format!("{invoice_id}-void"))?)
            .send(self.client())
            .await?;
        StripeInvoice::from_json(&answer)
    }

    /// Writes the Stripe invoice off as a bad debt; it can still be paid.
    pub async fn mark_uncollectible(
        &self,
        stripe_invoice: &str,
        invoice_id: &str,
    ) -> Result<StripeInvoice, PaymentError> {
        let answer = MarkUncollectibleInvoice::new(stripe_invoice)
            .build()
            .customize::<Value>()
            .request_strategy(key(&format!("{invoice_id}-uncollectible"))?)
            .send(self.client())
            .await?;
        StripeInvoice::from_json(&answer)
    }
}

/// Whether Stripe refused a payment (a card error answers 402).
pub fn is_declined(err: &PaymentError) -> bool {
    matches!(err, PaymentError::Stripe(failure) if failure.status() == Some(402))
}
