//! The OpenAPI document: served publicly, one operation for every route of the template (and
//! nothing else), response schemas with the frontend guide's fields.

use std::collections::BTreeSet;

use billing_tests::{TestContext, template};
use serde_json::Value;

#[tokio::test]
async fn the_document_is_public_and_describes_exactly_the_templates_routes() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let reply = server.get("/api/billing/openapi.json", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let doc = reply.json;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> =
        template().routes().unwrap().into_iter().map(|(route, _)| (route.method, route.path)).collect();
    assert_eq!(documented, routed);

    // Every referenced schema exists.
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(doc["components"]["schemas"].get(name).is_some(), "missing schema {name}");
    }
}

/// The frontend guide's `SubscriptionResponse`, field for field.
pub const SUBSCRIPTION_RESPONSE_FIELDS: [&str; 24] = [
    "id",
    "organization_id",
    "billing_account_id",
    "tier",
    "status",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "canceled_at",
    "trial_start",
    "trial_end",
    "workflows_limit",
    "workflows_used",
    "workflows_remaining",
    "agents_limit",
    "storage_limit_gb",
    "storage_used_gb",
    "is_lifetime",
    "lifetime_purchase_date",
    "lifetime_purchase_amount",
    "is_byo",
    "byo_providers_configured",
    "created_at",
    "updated_at",
];

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn response_schemas_name_the_frontend_guides_fields() {
    let doc = serde_json::to_value(billing::api::openapi::document()).unwrap();
    let guide: [(&str, &[&str]); 3] = [
        ("SubscriptionResponse", &SUBSCRIPTION_RESPONSE_FIELDS),
        (
            "BillingAccountResponse",
            &[
                "id",
                "organization_id",
                "stripe_customer_id",
                "has_payment_method",
                "status",
                "free_workflows_remaining",
                "free_workflows_reset_at",
                "credit_balance",
                "auto_billing_enabled",
                "billing_email",
                "tax_exempt",
                "total_workflows_completed",
                "total_amount_spent",
                "created_at",
                "updated_at",
            ],
        ),
        ("InvoiceResponse", &billing::api::invoices::InvoiceResponse::GUIDE_FIELDS),
    ];
    for (schema, fields) in guide {
        let have = properties(&doc, schema);
        for field in fields {
            assert!(have.contains(*field), "{schema}.{field} is not in the document: {have:?}");
        }
    }
}
