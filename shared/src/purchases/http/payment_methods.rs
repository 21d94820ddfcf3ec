//! The frontend guide's `PaymentMethodResponse`.

use serde::{Deserialize, Serialize};

use crate::payments::client::SavedPaymentMethod;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentMethodResponse {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub is_default: bool,
}

impl PaymentMethodResponse {
    pub fn new(method: &SavedPaymentMethod, is_default: bool) -> Self {
        Self {
            id: method.id.clone(),
            kind: method.kind.clone(),
            card_brand: method.card_brand.clone(),
            card_last4: method.card_last4.clone(),
            is_default,
        }
    }
}
