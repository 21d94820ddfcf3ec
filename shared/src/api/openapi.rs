//! The OpenAPI 3.1 description of the HTTP API, served at `GET /api/billing/openapi.json`.
//!
//! Schemas are derived from the request and response types themselves (utoipa); the route
//! table names each route's types and who may call it, and a test holds the table equal to
//! template.yaml's routes.

use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ArrayBuilder, ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Schema, Type,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Billing API",
        description = "Usage-based billing: quota, purchases, subscriptions, usage, costs and invoices."
    ),
    components(schemas(
        crate::api::config::StripeConfigResponse,
        crate::domain::plans::Catalog,
        crate::api::account::BillingAccountResponse,
        crate::api::quota::ReservationRequest,
        crate::api::quota::ReservationResponse,
        crate::api::quota::ReservationCheckResponse,
        crate::api::quota::CommitRequest,
        crate::api::quota::CommitResponse,
        crate::api::quota::ReleaseResponse,
        crate::api::quota::QuotaStandingResponse,
        crate::api::quota::UsageRecordResponse,
        crate::api::costs::CostRecordResponse,
        crate::api::costs::CostSummaryResponse,
        crate::api::costs::BudgetRequest,
        crate::api::costs::BudgetResponse,
        crate::flows::checkout::CheckoutResponse,
        crate::flows::payment_methods::PaymentMethodResponse,
        crate::api::subscription::SubscriptionResponse,
        crate::api::subscription::PlanHistoryResponse,
        crate::api::subscription::ChangePreviewResponse,
        crate::api::invoices::InvoiceResponse,
        crate::error::ErrorBody,
    ))
)]
struct Schemas;

/// Who may call a route (as `Metadata.Access` in the template says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone.
    Public,
    /// Stripe, with its signature.
    Stripe,
    /// The workflow engine, SigV4-signed.
    Service,
    /// A user's bearer token (membership and role are checked by the route).
    User,
}

/// What a route answers on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    One(&'static str),
    List(&'static str),
    /// A JSON object not described further.
    Object,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub caller: Caller,
    pub request: Option<&'static str>,
    pub answer: Answer,
    /// Query parameters it reads.
    pub query: &'static [&'static str],
}

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    caller: Caller,
    answer: Answer,
) -> Route {
    Route { method, path, summary, caller, request: None, answer, query: &[] }
}

const LIST_QUERY: &[&str] = &["from", "to", "limit", "cursor"];

use Answer::{List, Object, One};
use Caller::{Public, Service, Stripe, User};

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    route("GET", "/api/billing/openapi.json", "This document", Public, Object),
    route(
        "GET",
        "/api/billing/config",
        "Stripe publishable key and whether payments are on",
        Public,
        One("StripeConfigResponse"),
    ),
    route("GET", "/api/billing/plans", "The plan catalog", Public, One("Catalog")),
    route("GET", "/api/billing/account/{organization_id}", "The billing account", User, One("BillingAccountResponse")),
    Route {
        query: &["check"],
        request: Some("ReservationRequest"),
        ..route(
            "POST",
            "/api/billing/internal/quota/{organization_id}/reservations",
            "Reserve quota for a run",
            Service,
            One("ReservationResponse"),
        )
    },
    route(
        "POST",
        "/api/billing/internal/quota/{organization_id}/reservations/{run_id}/heartbeat",
        "Extend a hold",
        Service,
        One("ReservationResponse"),
    ),
    Route {
        request: Some("CommitRequest"),
        ..route(
            "POST",
            "/api/billing/internal/quota/{organization_id}/reservations/{run_id}/commit",
            "Settle a run with its usage",
            Service,
            One("CommitResponse"),
        )
    },
    route(
        "POST",
        "/api/billing/internal/quota/{organization_id}/reservations/{run_id}/release",
        "Give a hold back",
        Service,
        One("ReleaseResponse"),
    ),
    route(
        "GET",
        "/api/billing/account/{organization_id}/quota",
        "Every quota bucket at a glance",
        User,
        One("QuotaStandingResponse"),
    ),
    Route {
        query: &["billed", "from", "to", "limit", "cursor"],
        ..route(
            "GET",
            "/api/billing/account/{organization_id}/usage",
            "Usage records",
            User,
            List("UsageRecordResponse"),
        )
    },
    Route {
        query: LIST_QUERY,
        ..route(
            "GET",
            "/api/billing/account/{organization_id}/costs",
            "LLM cost records",
            User,
            List("CostRecordResponse"),
        )
    },
    Route {
        query: &["from", "to"],
        ..route(
            "GET",
            "/api/billing/account/{organization_id}/costs/summary",
            "LLM costs by provider and model",
            User,
            One("CostSummaryResponse"),
        )
    },
    route("GET", "/api/billing/account/{organization_id}/budget", "The monthly budget", User, One("BudgetResponse")),
    Route {
        request: Some("BudgetRequest"),
        ..route(
            "PUT",
            "/api/billing/account/{organization_id}/budget",
            "Set the monthly budget",
            User,
            One("BudgetResponse"),
        )
    },
    route(
        "POST",
        "/api/billing/account/{organization_id}/credits/checkout",
        "Checkout for prepaid credits",
        User,
        One("CheckoutResponse"),
    ),
    route(
        "POST",
        "/api/billing/account/{organization_id}/workflow-packs/checkout",
        "Checkout for a workflow pack",
        User,
        One("CheckoutResponse"),
    ),
    route(
        "POST",
        "/api/billing/account/{organization_id}/lifetime/checkout",
        "Checkout for the lifetime plan",
        User,
        One("CheckoutResponse"),
    ),
    route(
        "POST",
        "/api/billing/account/{organization_id}/subscription/checkout",
        "Checkout for a subscription",
        User,
        One("CheckoutResponse"),
    ),
    route(
        "GET",
        "/api/billing/account/{organization_id}/subscription",
        "The subscription (every account has one)",
        User,
        One("SubscriptionResponse"),
    ),
    route(
        "GET",
        "/api/billing/account/{organization_id}/subscription/history",
        "Every plan change",
        User,
        One("PlanHistoryResponse"),
    ),
    Route {
        query: &["tier"],
        ..route(
            "GET",
            "/api/billing/account/{organization_id}/subscription/preview",
            "What a plan change would cost",
            User,
            One("ChangePreviewResponse"),
        )
    },
    route(
        "POST",
        "/api/billing/account/{organization_id}/subscription/cancel",
        "Cancel at period end or now",
        User,
        One("SubscriptionResponse"),
    ),
    route(
        "POST",
        "/api/billing/account/{organization_id}/subscription/reactivate",
        "Undo a pending cancellation",
        User,
        One("SubscriptionResponse"),
    ),
    route(
        "POST",
        "/api/billing/account/{organization_id}/subscription/change",
        "Upgrade now or downgrade at period end",
        User,
        One("SubscriptionResponse"),
    ),
    route("POST", "/api/billing/account/{organization_id}/portal", "A Stripe customer portal session", User, Object),
    route("GET", "/api/billing/account/{organization_id}/credits", "Credit balance and recent ledger", User, Object),
    route(
        "POST",
        "/api/billing/account/{organization_id}/payment-method",
        "Save a payment method",
        User,
        One("PaymentMethodResponse"),
    ),
    route(
        "GET",
        "/api/billing/account/{organization_id}/payment-methods",
        "Saved payment methods",
        User,
        List("PaymentMethodResponse"),
    ),
    route(
        "DELETE",
        "/api/billing/account/{organization_id}/payment-methods/{payment_method_id}",
        "Remove a payment method",
        User,
        Object,
    ),
    Route {
        query: &["status", "from", "to", "limit", "cursor"],
        ..route(
            "GET",
            "/api/billing/account/{organization_id}/invoices",
            "Invoices, newest first",
            User,
            List("InvoiceResponse"),
        )
    },
    route("GET", "/api/billing/invoices/{invoice_id}", "One invoice", User, One("InvoiceResponse")),
    route("POST", "/api/billing/invoices/{invoice_id}/pay", "Charge an invoice", User, One("InvoiceResponse")),
    route(
        "POST",
        "/api/billing/account/{organization_id}/invoices/generate",
        "Invoice unbilled usage now",
        User,
        One("InvoiceResponse"),
    ),
    route("POST", "/api/billing/webhook", "Stripe events (signed)", Stripe, Object),
];

fn method(name: &str) -> HttpMethod {
    match name {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn body(answer: Answer) -> RefOr<Schema> {
    match answer {
        One(name) => Ref::from_schema_name(name).into(),
        List(name) => ArrayBuilder::new().items(Ref::from_schema_name(name)).build().into(),
        Object => ObjectBuilder::new().schema_type(Type::Object).build().into(),
    }
}

fn json(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).build().into()
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Schemas::openapi();
    for route in ROUTES {
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .operation_id(Some(format!("{} {}", route.method, route.path)));
        let params = route.path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'));
        for name in params {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string())),
            );
        }
        for name in route.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(string())),
            );
        }
        if let Some(request) = route.request {
            let content = json(Ref::from_schema_name(request).into());
            op = op.request_body(Some(
                RequestBodyBuilder::new().required(Some(Required::True)).content("application/json", content).build(),
            ));
        }
        let ok = ResponseBuilder::new().description("Success").content("application/json", json(body(route.answer)));
        let refused = ResponseBuilder::new()
            .description("Refused: `{detail, code}`")
            .content("application/json", json(Ref::from_schema_name("ErrorBody").into()));
        op = op.response("200", ok.build()).response("default", refused.build());
        op = match route.caller {
            User => op.security(SecurityRequirement::new("bearer", Vec::<String>::new())),
            Service => op.security(SecurityRequirement::new("sigv4", Vec::<String>::new())),
            Public | Stripe => op,
        };
        doc.paths.add_path_operation(route.path, vec![method(route.method)], op.build());
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".into(),
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    components.security_schemes.insert(
        "sigv4".into(),
        SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
            utoipa::openapi::security::ApiKeyValue::with_description(
                "Authorization",
                "AWS SigV4 (the workflow engine's IAM role)",
            ),
        )),
    );
    doc
}
