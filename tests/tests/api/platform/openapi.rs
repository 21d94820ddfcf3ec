//! The OpenAPI document: served publicly, one operation for every route of the template (and
//! nothing else), response schemas with the frontend guide's fields.

use std::collections::BTreeSet;

use billing_tests::subscriptions::SUBSCRIPTION_RESPONSE_FIELDS;
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

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn response_schemas_name_the_frontend_guides_fields() {
    let doc = serde_json::to_value(billing::openapi::document()).unwrap();
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
        ("InvoiceResponse", &billing::invoicing::http::InvoiceResponse::GUIDE_FIELDS),
    ];
    for (schema, fields) in guide {
        let have = properties(&doc, schema);
        for field in fields {
            assert!(have.contains(*field), "{schema}.{field} is not in the document: {have:?}");
        }
    }
}

/// What a function's source shows it reads from a request: its query parameters, whether it
/// parses a JSON body and whether it honours `Idempotency-Key`.
fn reads_of(binary: &str) -> (BTreeSet<String>, bool, bool) {
    let path = format!("{}/../functions/{binary}/src/lib.rs", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut query = BTreeSet::new();
    for marker in ["first(\"", "query_flag(&req, \""] {
        for rest in source.split(marker).skip(1) {
            query.insert(rest.split('"').next().unwrap().to_owned());
        }
    }
    if source.contains("listing(&req)") {
        query.extend(["from", "to", "limit", "cursor"].map(String::from));
    }
    if source.contains("list_order(&req)") {
        query.insert("order".to_owned());
    }
    if source.contains("time_range(&req)") {
        query.extend(["from", "to"].map(String::from));
    }
    (query, source.contains("json_body"), source.contains("idempotent("))
}

#[test]
fn each_operation_documents_the_query_parameters_and_body_its_function_reads() {
    let doc = serde_json::to_value(billing::openapi::document()).unwrap();
    for (route, binary) in template().routes().unwrap() {
        let op = &doc["paths"][&route.path][route.method.to_lowercase()];
        let documented: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let (read, parses_body, idempotent) = reads_of(&binary);
        let takes_key = op["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == "Idempotency-Key");
        assert_eq!(takes_key, idempotent, "{} {}: Idempotency-Key", route.method, route.path);
        assert_eq!(documented, read, "{} {}: query parameters", route.method, route.path);
        assert_eq!(op.get("requestBody").is_some(), parses_body, "{} {}: request body", route.method, route.path);
        if parses_body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            assert!(schema.as_str().is_some_and(|s| s.starts_with("#/components/schemas/")), "{}", route.path);
        }
    }
}

/// Code generators name a client's functions by operation id: each must be a unique
/// identifier, and it is the route's function binary in camelCase, so the generated names
/// follow the function packages.
#[test]
fn operation_ids_are_unique_identifiers_named_after_each_routes_function() {
    let doc = serde_json::to_value(billing::openapi::document()).unwrap();
    let mut seen = BTreeSet::new();
    for (route, binary) in template().routes().unwrap() {
        let id = doc["paths"][&route.path][route.method.to_lowercase()]["operationId"].as_str().unwrap().to_owned();
        let mut chars = id.chars();
        assert!(chars.next().is_some_and(|c| c.is_ascii_lowercase()), "{id}");
        assert!(chars.all(|c| c.is_ascii_alphanumeric()), "{id} is not an identifier");
        assert_eq!(id, billing::openapi::operation_id(&binary), "{} {}", route.method, route.path);
        assert!(seen.insert(id.clone()), "{id} is used twice");
    }
    let ids: BTreeSet<&str> = ["getAccount", "postCreditsCheckout", "webhookStripe"].into();
    assert!(ids.is_subset(&seen.iter().map(String::as_str).collect()), "{seen:?}");
}

/// Public routes say so (`security: []`) rather than leave it unsaid, every other operation
/// names its scheme, and the server is relative: the document is served by the API it describes.
#[test]
fn public_routes_are_explicitly_open_and_the_server_is_relative() {
    let doc = serde_json::to_value(billing::openapi::document()).unwrap();
    assert_eq!(doc["servers"], serde_json::json!([{ "url": "/" }]));
    for (route, binary) in template().routes().unwrap() {
        let security = &doc["paths"][&route.path][route.method.to_lowercase()]["security"];
        let open = matches!(route.auth, local_server::template::RouteAuth::None);
        if open {
            assert_eq!(security, &serde_json::json!([]), "{binary}");
        } else {
            assert!(security.as_array().is_some_and(|s| !s.is_empty()), "{binary}: {security}");
        }
    }
}
