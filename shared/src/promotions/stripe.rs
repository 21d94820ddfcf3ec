//! Promotion codes mirrored to Stripe: each of ours is a Stripe coupon (the discount and how
//! long it lasts) and a promotion code on it (the code, its limit and expiry). A checkout
//! applies the promotion code by id, so Stripe computes the discount on its own invoice.

use serde_json::{Value, json};
use stripe_client_core::StripeMethod;

use crate::money::Cents;
use crate::payments::{PaymentError, StripeApi};
use crate::promotions::rules::{Discount, PromoDefinition};

impl StripeApi {
    /// Creates the coupon and its promotion code; returns both ids. The keys derive from the
    /// code, so a retried creation makes no second coupon.
    pub async fn create_promotion(&self, definition: &PromoDefinition) -> Result<(String, String), PaymentError> {
        let code = definition.code.as_str();
        let mut coupon = json!({
            "name": code,
            "duration": definition.duration.as_str(),
            "metadata": { "promo_code": code },
        });
        match definition.discount {
            Discount::PercentOff(percent) => coupon["percent_off"] = json!(percent.to_string()),
            Discount::AmountOff(cents) => {
                coupon["amount_off"] = json!(cents);
                coupon["currency"] = json!("usd");
            }
        }
        if let Some(months) = definition.duration_in_months {
            coupon["duration_in_months"] = json!(months);
        }
        let created = self
            .send_json(StripeMethod::Post, "/coupons", Some(&coupon), Some(&format!("promo-{code}-coupon")))
            .await?;
        let coupon_id = id(&created, "coupon without id")?;
        let mut promotion = json!({
            "promotion": { "type": "coupon", "coupon": coupon_id },
            "code": code,
            "metadata": { "promo_code": code },
        });
        if let Some(max) = definition.max_redemptions {
            promotion["max_redemptions"] = json!(max);
        }
        if let Some(at) = definition.expires_at {
            promotion["expires_at"] = json!(at.timestamp());
        }
        let created = self
            .send_json(
                StripeMethod::Post,
                "/promotion_codes",
                Some(&promotion),
                Some(&format!("promo-{code}-promotion-code")),
            )
            .await?;
        Ok((coupon_id, id(&created, "promotion code without id")?))
    }

    /// Turns the promotion code off: Stripe then refuses it in any new checkout.
    pub async fn deactivate_promotion_code(&self, promotion_code: &str) -> Result<(), PaymentError> {
        self.send_json(
            StripeMethod::Post,
            &format!("/promotion_codes/{promotion_code}"),
            Some(&json!({ "active": false })),
            Some(&format!("deactivate-{promotion_code}")),
        )
        .await
        .map_err(|e| PaymentError::or_not_found(e, "promotion code"))?;
        Ok(())
    }
}

fn id(object: &Value, missing: &'static str) -> Result<String, PaymentError> {
    object["id"].as_str().map(str::to_owned).ok_or(PaymentError::Unexpected(missing))
}

/// The discount Stripe applied to an invoice: the sum of its `total_discount_amounts`.
pub fn invoice_discount(invoice: &Value) -> Cents {
    invoice["total_discount_amounts"]
        .as_array()
        .map(|amounts| amounts.iter().filter_map(|d| d["amount"].as_i64()).sum())
        .unwrap_or_default()
}
