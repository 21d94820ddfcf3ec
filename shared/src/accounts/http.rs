use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::accounts::store::AccountItem;
use crate::money::dollars;
use crate::period;

/// `GET /account/{organization_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BillingAccountResponse {
    pub id: String,
    pub organization_id: String,
    pub stripe_customer_id: Option<String>,
    pub has_payment_method: bool,
    pub status: String,
    pub free_workflows_remaining: u32,
    pub free_workflows_reset_at: Option<DateTime<Utc>>,
    #[serde(with = "rust_decimal::serde::float")]
    pub credit_balance: Decimal,
    pub auto_billing_enabled: bool,
    pub billing_email: Option<String>,
    pub tax_exempt: bool,
    pub total_workflows_completed: u64,
    #[serde(with = "rust_decimal::serde::float")]
    pub total_amount_spent: Decimal,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl BillingAccountResponse {
    /// The account as seen at `now`: a free quota from an earlier month shows as already reset.
    pub fn at(account: &AccountItem, now: DateTime<Utc>, free_per_month: u32) -> Self {
        Self {
            id: account.id.clone(),
            organization_id: account.organization_id.to_string(),
            stripe_customer_id: account.stripe_customer_id.clone(),
            has_payment_method: account.has_payment_method,
            status: account.status.as_str().to_owned(),
            free_workflows_remaining: account.free_remaining_at(now, free_per_month),
            free_workflows_reset_at: Some(period::next_month_start(now)),
            credit_balance: dollars(account.credit_balance_cents),
            auto_billing_enabled: account.auto_billing_enabled,
            billing_email: account.billing_email.clone(),
            tax_exempt: account.tax_exempt,
            total_workflows_completed: account.total_workflows_completed,
            total_amount_spent: dollars(account.total_spent_cents),
            created_at: Some(account.created_at),
            updated_at: Some(account.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{catalog::rules::TierId, ids::OrganizationId};
    use chrono::TimeZone;

    #[test]
    fn the_response_has_exactly_the_frontend_guide_fields() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap();
        let account = AccountItem::new_free(&OrganizationId::parse("demo").unwrap(), now, 5, TierId::new("free"));
        let json = serde_json::to_value(BillingAccountResponse::at(&account, now, 5)).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "auto_billing_enabled",
                "billing_email",
                "created_at",
                "credit_balance",
                "free_workflows_remaining",
                "free_workflows_reset_at",
                "has_payment_method",
                "id",
                "organization_id",
                "status",
                "stripe_customer_id",
                "tax_exempt",
                "total_amount_spent",
                "total_workflows_completed",
                "updated_at",
            ]
        );
        assert_eq!(json["credit_balance"], serde_json::json!(0.0));
        assert_eq!(json["free_workflows_reset_at"], "2026-12-01T00:00:00Z");
        assert_eq!(json["status"], "active");
    }

    #[test]
    fn last_months_free_quota_shows_as_reset_before_any_write() {
        let november = Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap();
        let mut account =
            AccountItem::new_free(&OrganizationId::parse("demo").unwrap(), november, 5, TierId::new("free"));
        account.free_remaining = 0;
        assert_eq!(BillingAccountResponse::at(&account, november, 5).free_workflows_remaining, 0);
        let december = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let view = BillingAccountResponse::at(&account, december, 5);
        assert_eq!(view.free_workflows_remaining, 5);
        assert_eq!(view.free_workflows_reset_at, Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()));
    }
}
