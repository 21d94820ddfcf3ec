//! Launch-price schedules at Stripe: the subscription Checkout created at the first intro
//! price is taken over by a subscription schedule whose phases are the offer's, ending with
//! the tier's own price; the schedule then lets go (`release`) and the subscription renews at
//! that price as any other.

use serde_json::{Value, json};
use stripe_client_core::StripeMethod;

use crate::launch_offers::rules::PricePhase;
use crate::payments::{PaymentError, StripeApi};

/// What a launch schedule is built from.
#[derive(Debug, Clone)]
pub struct LaunchPlan<'a> {
    pub subscription: &'a str,
    /// The price the subscription bills now (Checkout's first-phase price).
    pub current_price: &'a str,
    /// The tier's own Stripe price, for after the intro phases.
    pub full_price: &'a str,
    /// The product intro prices belong to (the tier's).
    pub product: &'a str,
    /// Dated phases (`domain::launch::phases`); the first is the one in force.
    pub phases: &'a [PricePhase],
}

impl StripeApi {
    /// The product a price belongs to.
    pub async fn product_of_price(&self, price: &str) -> Result<String, PaymentError> {
        let found = self
            .send_json(StripeMethod::Get, &format!("/prices/{price}"), None, None)
            .await
            .map_err(|e| PaymentError::or_not_found(e, "price"))?;
        let product = &found["product"];
        product
            .as_str()
            .or_else(|| product["id"].as_str())
            .map(str::to_owned)
            .ok_or(PaymentError::Unexpected("price without product"))
    }

    /// Puts the subscription on its launch phases; returns the schedule's id. Keys derive
    /// from `idempotency_key`, so a retried call makes no second schedule.
    pub async fn apply_launch_schedule(
        &self,
        plan: &LaunchPlan<'_>,
        idempotency_key: &str,
    ) -> Result<String, PaymentError> {
        let schedule = self.schedule_from(plan.subscription, idempotency_key).await?;
        let phases: Vec<Value> =
            plan.phases.iter().enumerate().map(|(i, phase)| stripe_phase(plan, i, phase)).collect();
        self.send_json(
            StripeMethod::Post,
            &format!("/subscription_schedules/{schedule}"),
            Some(&json!({ "end_behavior": "release", "phases": phases })),
            Some(&format!("{idempotency_key}-phases")),
        )
        .await?;
        Ok(schedule)
    }

    /// Bills `price` from the next renewal on, without proration (the period already paid
    /// stays as it was).
    pub async fn set_price_from_renewal(
        &self,
        subscription: &str,
        item: &str,
        price: &str,
        idempotency_key: &str,
    ) -> Result<Value, PaymentError> {
        let form = json!({ "items": [{ "id": item, "price": price }], "proration_behavior": "none" });
        self.send_json(
            StripeMethod::Post,
            &format!("/subscriptions/{subscription}"),
            Some(&form),
            Some(idempotency_key),
        )
        .await
        .map_err(|e| PaymentError::or_not_found(e, "subscription"))
    }
}

/// One phase as Stripe takes it: the first keeps the current price and its start, intro
/// phases an inline monthly price of the tier's product, the last the tier's price.
fn stripe_phase(plan: &LaunchPlan<'_>, index: usize, phase: &PricePhase) -> Value {
    let item = match (index, phase.intro) {
        (0, _) => json!({ "price": plan.current_price }),
        (_, true) => json!({ "price_data": {
            "currency": "usd",
            "product": plan.product,
            "unit_amount": phase.price_cents,
            "recurring": { "interval": "month" },
        } }),
        (_, false) => json!({ "price": plan.full_price }),
    };
    let mut value = json!({ "items": [item], "proration_behavior": "none" });
    if index == 0 {
        value["start_date"] = json!(phase.starts_at.timestamp());
    }
    if let Some(end) = phase.ends_at {
        value["end_date"] = json!(end.timestamp());
    }
    value
}
