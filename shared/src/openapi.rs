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
    ArrayBuilder, ContentBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Ref, RefOr, Required, ResponseBuilder,
    Schema, SchemaFormat, Type,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Billing API",
        description = "Usage-based billing: quota, purchases, subscriptions, usage, costs and invoices."
    ),
    components(schemas(
        crate::catalog::http::StripeConfigResponse,
        crate::catalog::rules::Catalog,
        crate::catalog::rules::ByoProvider,
        crate::accounts::http::BillingAccountResponse,
        crate::quota::http::ReservationRequest,
        crate::quota::http::ReservationResponse,
        crate::quota::http::ReservationCheckResponse,
        crate::quota::http::CommitRequest,
        crate::quota::http::CommitResponse,
        crate::quota::http::ReleaseResponse,
        crate::quota::http::QuotaStandingResponse,
        crate::quota::http::UsageRecordResponse,
        crate::costs::http::CostRecordResponse,
        crate::costs::http::CostSummaryResponse,
        crate::usage::http::DailyUsageResponse,
        crate::costs::http::BudgetRequest,
        crate::costs::http::BudgetResponse,
        crate::purchases::flow::CheckoutResponse,
        crate::purchases::http::payment_methods::PaymentMethodResponse,
        crate::subscriptions::http::SubscriptionResponse,
        crate::subscriptions::http::PlanHistoryResponse,
        crate::subscriptions::http::ChangePreviewResponse,
        crate::invoicing::http::InvoiceResponse,
        crate::credits::http::CreditsResponse,
        crate::credits::http::LedgerLine,
        crate::purchases::http::CreditPurchaseRequest,
        crate::purchases::http::PackPurchaseRequest,
        crate::purchases::http::LifetimePurchaseRequest,
        crate::purchases::http::SubscriptionCheckoutRequest,
        crate::purchases::http::PaymentMethodRequest,
        crate::purchases::http::PaymentMethodCheckoutRequest,
        crate::purchases::http::PortalRequest,
        crate::purchases::http::PortalResponse,
        crate::purchases::http::CancelRequest,
        crate::purchases::http::ChangeRequest,
        crate::usage::rules::LedgerKind,
        crate::operators::http::AdminReasonRequest,
        crate::operators::http::AccountStandingResponse,
        crate::operators::http::AuditEntryResponse,
        crate::operators::http::CreditGrantRequest,
        crate::operators::http::CreditGrantResponse,
        crate::operators::http::LimitsRequest,
        crate::operators::http::LimitsResponse,
        crate::accounts::rules::limits::LimitOverride,
        crate::accounts::rules::limits::LimitOverrides,
        crate::accounts::rules::limits::LimitsInForce,
        crate::operators::http::HealthResponse,
        crate::operators::http::QueueHealth,
        crate::operators::http::ScheduleHealth,
        crate::operators::http::StripeHealth,
        crate::operators::http::TableHealth,
        crate::operators::http::RedriveResponse,
        crate::operators::http::directory::AccountSummary,
        crate::operators::http::directory::AccountState,
        crate::operators::http::directory::OpenHold,
        crate::operators::http::directory::FlagValue,
        crate::operators::http::directory::AccountDetailResponse,
        crate::invoicing::http::VoidInvoiceRequest,
        crate::invoicing::http::InvoiceActionResponse,
        crate::invoicing::http::CreditNoteResponse,
        crate::byo_keys::http::ByoKeyRequest,
        crate::byo_keys::http::ByoKeyResponse,
        crate::byo_keys::http::ByoKeySecretResponse,
        crate::promotions::http::PromoCodeRequest,
        crate::subscriptions::http::PricePhaseResponse,
        crate::catalog::rules::LaunchOffer,
        crate::catalog::rules::IntroPhase,
        crate::promotions::http::PromoCodeResponse,
        crate::promotions::http::PromoCodeListResponse,
        crate::promotions::rules::PromoDuration,
        crate::flags::http::FlagRequest,
        crate::flags::http::FlagResponse,
        crate::flags::http::FlagListResponse,
        crate::flags::http::OrganizationFlagRequest,
        crate::flags::http::OrganizationFlagResponse,
        crate::flags::http::FeaturesResponse,
        crate::flags::rules::FlagSource,
        crate::error::ErrorBody,
        GatewayError,
    ))
)]
struct Schemas;

/// What API Gateway itself answers when its authorizer refuses a request, before any
/// function runs (`{"message": "Unauthorized"}`): not the functions' `{detail, code}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // only its schema is used
struct GatewayError {
    message: String,
}

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
    /// The first normally, the second when the query asks for it (a dry run).
    Either(&'static str, &'static str),
    /// A CSV attachment (`text/csv`), paged like a list.
    Csv,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The function's binary (`BuildProperties.Binary` in the template); its operation id is
    /// this name in camelCase, so code generators get one stable function name per route.
    pub binary: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub caller: Caller,
    pub request: Option<Body>,
    pub answer: Answer,
    /// Query parameters it reads.
    pub query: &'static [Query],
    /// `201` with the answer when it created something, `200` when it already existed.
    pub creates: bool,
}

/// A request body, by schema name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Required(&'static str),
    /// An empty body means every field's default.
    Optional(&'static str),
}

/// A query parameter and the values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub name: &'static str,
    pub accepts: Accepts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// A date (`2026-11-01`) or an RFC 3339 time.
    Instant,
    /// A date (`2026-11-01`) only.
    Date,
    /// A page size from 1 to 100.
    PageSize,
    /// Rows of an export page, 1 to 5000.
    ExportSize,
    /// The `next_cursor` of the previous page, as it was.
    Cursor,
    /// `true` or `false`.
    Flag,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// An identifier of the catalog (a tier).
    CatalogId,
    /// An organization's (or another) id.
    Id,
    /// A feature flag's name.
    FlagName,
    /// An email address.
    Email,
}

const fn route(
    binary: &'static str,
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    caller: Caller,
    answer: Answer,
) -> Route {
    Route { binary, method, path, summary, caller, request: None, answer, query: &[], creates: false }
}

const fn query(name: &'static str, accepts: Accepts) -> Query {
    Query { name, accepts }
}

/// `order` of the lists that read either way (`oldest_first` by default).
const ORDER: Query = query("order", Accepts::OneOf(&["oldest_first", "newest_first"]));
const FROM: Query = query("from", Accepts::Instant);
const TO: Query = query("to", Accepts::Instant);
const LIMIT: Query = query("limit", Accepts::PageSize);
const CURSOR: Query = query("cursor", Accepts::Cursor);
const INVOICE_STATUSES: &[&str] = &["draft", "open", "paid", "past_due", "void"];
const ACCOUNT_STATUSES: &[&str] = &["pending", "active", "suspended"];

use Answer::{Csv, Either, List, Object, One};
use Caller::{Public, Service, Stripe, User};

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    route("http-get-openapi", "GET", "/api/billing/openapi.json", "This document", Public, Object),
    route(
        "http-get-config",
        "GET",
        "/api/billing/config",
        "Stripe publishable key and whether payments are on",
        Public,
        One("StripeConfigResponse"),
    ),
    route("http-get-plans", "GET", "/api/billing/plans", "The plan catalog", Public, One("Catalog")),
    route(
        "http-get-account",
        "GET",
        "/api/billing/account/{organization_id}",
        "The billing account",
        User,
        One("BillingAccountResponse"),
    ),
    Route {
        query: &[query("dry_run", Accepts::Flag)],
        request: Some(Body::Required("ReservationRequest")),
        creates: true,
        ..route(
            "http-post-reservation",
            "POST",
            "/api/billing/internal/quota/{organization_id}/reservations",
            "Reserve quota for a run",
            Service,
            Either("ReservationResponse", "ReservationCheckResponse"),
        )
    },
    route(
        "http-post-reservation-heartbeat",
        "POST",
        "/api/billing/internal/quota/{organization_id}/reservations/{run_id}/heartbeat",
        "Extend a hold",
        Service,
        One("ReservationResponse"),
    ),
    Route {
        request: Some(Body::Optional("CommitRequest")),
        creates: true,
        ..route(
            "http-post-reservation-commit",
            "POST",
            "/api/billing/internal/quota/{organization_id}/reservations/{run_id}/commit",
            "Settle a run with its usage",
            Service,
            One("CommitResponse"),
        )
    },
    route(
        "http-post-reservation-release",
        "POST",
        "/api/billing/internal/quota/{organization_id}/reservations/{run_id}/release",
        "Give a hold back",
        Service,
        One("ReleaseResponse"),
    ),
    route(
        "http-get-internal-byo-key",
        "GET",
        "/api/billing/internal/byo-keys/{organization_id}/{provider}",
        "A bring-your-own provider key, decrypted (the workflow engine)",
        Service,
        One("ByoKeySecretResponse"),
    ),
    Route {
        request: Some(Body::Required("ByoKeyRequest")),
        ..route(
            "http-put-byo-key",
            "PUT",
            "/api/billing/account/{organization_id}/byo-keys/{provider}",
            "Save a bring-your-own provider key",
            User,
            One("ByoKeyResponse"),
        )
    },
    route(
        "http-get-byo-keys",
        "GET",
        "/api/billing/account/{organization_id}/byo-keys",
        "Stored provider keys (never the keys)",
        User,
        List("ByoKeyResponse"),
    ),
    route(
        "http-delete-byo-key",
        "DELETE",
        "/api/billing/account/{organization_id}/byo-keys/{provider}",
        "Remove a provider key",
        User,
        Object,
    ),
    route(
        "http-get-quota",
        "GET",
        "/api/billing/account/{organization_id}/quota",
        "Every quota bucket at a glance",
        User,
        One("QuotaStandingResponse"),
    ),
    Route {
        query: &[query("billed", Accepts::Flag), FROM, TO, ORDER, LIMIT, CURSOR],
        ..route(
            "http-get-usage",
            "GET",
            "/api/billing/account/{organization_id}/usage",
            "Usage records",
            User,
            List("UsageRecordResponse"),
        )
    },
    Route {
        query: &[FROM, TO, ORDER, LIMIT, CURSOR],
        ..route(
            "http-get-costs",
            "GET",
            "/api/billing/account/{organization_id}/costs",
            "LLM cost records",
            User,
            List("CostRecordResponse"),
        )
    },
    Route {
        query: &[FROM, TO],
        ..route(
            "http-get-cost-summary",
            "GET",
            "/api/billing/account/{organization_id}/costs/summary",
            "LLM costs by provider and model",
            User,
            One("CostSummaryResponse"),
        )
    },
    Route {
        query: &[
            query("billed", Accepts::Flag),
            query("status", Accepts::OneOf(INVOICE_STATUSES)),
            FROM,
            TO,
            ORDER,
            query("limit", Accepts::ExportSize),
            CURSOR,
        ],
        ..route(
            "http-get-export",
            "GET",
            "/api/billing/account/{organization_id}/export/{kind}",
            "Usage, costs or invoices as CSV, with their list's filters (`billed` for usage, `status` for invoices, `order` for usage and costs), 5,000 rows per page",
            User,
            Csv,
        )
    },
    Route {
        query: &[query("from", Accepts::Date), query("to", Accepts::Date)],
        ..route(
            "http-get-usage-daily",
            "GET",
            "/api/billing/account/{organization_id}/usage/daily",
            "Runs, run charges and LLM cost per day, every day of the range (default the last 30, at most 366)",
            User,
            One("DailyUsageResponse"),
        )
    },
    route(
        "http-get-budget",
        "GET",
        "/api/billing/account/{organization_id}/budget",
        "The monthly budget",
        User,
        One("BudgetResponse"),
    ),
    Route {
        request: Some(Body::Required("BudgetRequest")),
        ..route(
            "http-put-budget",
            "PUT",
            "/api/billing/account/{organization_id}/budget",
            "Set the monthly budget",
            User,
            One("BudgetResponse"),
        )
    },
    Route {
        request: Some(Body::Required("CreditPurchaseRequest")),
        ..route(
            "http-post-credits-checkout",
            "POST",
            "/api/billing/account/{organization_id}/credits/checkout",
            "Checkout for prepaid credits",
            User,
            One("CheckoutResponse"),
        )
    },
    Route {
        request: Some(Body::Required("PackPurchaseRequest")),
        ..route(
            "http-post-pack-checkout",
            "POST",
            "/api/billing/account/{organization_id}/workflow-packs/checkout",
            "Checkout for a workflow pack",
            User,
            One("CheckoutResponse"),
        )
    },
    Route {
        request: Some(Body::Optional("LifetimePurchaseRequest")),
        ..route(
            "http-post-lifetime-checkout",
            "POST",
            "/api/billing/account/{organization_id}/lifetime/checkout",
            "Checkout for the lifetime plan",
            User,
            One("CheckoutResponse"),
        )
    },
    Route {
        request: Some(Body::Required("SubscriptionCheckoutRequest")),
        ..route(
            "http-post-subscription-checkout",
            "POST",
            "/api/billing/account/{organization_id}/subscription/checkout",
            "Checkout for a subscription",
            User,
            One("CheckoutResponse"),
        )
    },
    route(
        "http-get-subscription",
        "GET",
        "/api/billing/account/{organization_id}/subscription",
        "The subscription (every account has one)",
        User,
        One("SubscriptionResponse"),
    ),
    route(
        "http-get-subscription-history",
        "GET",
        "/api/billing/account/{organization_id}/subscription/history",
        "Every plan change",
        User,
        One("PlanHistoryResponse"),
    ),
    Route {
        query: &[query("tier", Accepts::CatalogId)],
        ..route(
            "http-get-subscription-preview",
            "GET",
            "/api/billing/account/{organization_id}/subscription/preview",
            "What a plan change would cost",
            User,
            One("ChangePreviewResponse"),
        )
    },
    Route {
        request: Some(Body::Optional("CancelRequest")),
        ..route(
            "http-post-subscription-cancel",
            "POST",
            "/api/billing/account/{organization_id}/subscription/cancel",
            "Cancel at period end or now",
            User,
            One("SubscriptionResponse"),
        )
    },
    route(
        "http-post-subscription-reactivate",
        "POST",
        "/api/billing/account/{organization_id}/subscription/reactivate",
        "Undo a pending cancellation",
        User,
        One("SubscriptionResponse"),
    ),
    Route {
        request: Some(Body::Required("ChangeRequest")),
        ..route(
            "http-post-subscription-change",
            "POST",
            "/api/billing/account/{organization_id}/subscription/change",
            "Upgrade now or downgrade at period end",
            User,
            One("SubscriptionResponse"),
        )
    },
    Route {
        request: Some(Body::Optional("PortalRequest")),
        ..route(
            "http-post-portal",
            "POST",
            "/api/billing/account/{organization_id}/portal",
            "A Stripe customer portal session",
            User,
            One("PortalResponse"),
        )
    },
    route(
        "http-get-credits",
        "GET",
        "/api/billing/account/{organization_id}/credits",
        "Credit balance and recent ledger",
        User,
        One("CreditsResponse"),
    ),
    Route {
        request: Some(Body::Required("PaymentMethodRequest")),
        ..route(
            "http-post-payment-method",
            "POST",
            "/api/billing/account/{organization_id}/payment-method",
            "Save a payment method",
            User,
            One("PaymentMethodResponse"),
        )
    },
    Route {
        request: Some(Body::Optional("PaymentMethodCheckoutRequest")),
        ..route(
            "http-post-payment-method-checkout",
            "POST",
            "/api/billing/account/{organization_id}/payment-methods/checkout",
            "Checkout in setup mode to add a card (the default when there is none)",
            User,
            One("CheckoutResponse"),
        )
    },
    route(
        "http-get-payment-methods",
        "GET",
        "/api/billing/account/{organization_id}/payment-methods",
        "Saved payment methods",
        User,
        List("PaymentMethodResponse"),
    ),
    route(
        "http-delete-payment-method",
        "DELETE",
        "/api/billing/account/{organization_id}/payment-methods/{payment_method_id}",
        "Remove a payment method",
        User,
        Object,
    ),
    Route {
        query: &[query("status", Accepts::OneOf(INVOICE_STATUSES)), FROM, TO, LIMIT, CURSOR],
        ..route(
            "http-get-invoices",
            "GET",
            "/api/billing/account/{organization_id}/invoices",
            "Invoices, newest first",
            User,
            List("InvoiceResponse"),
        )
    },
    route("http-get-invoice", "GET", "/api/billing/invoices/{invoice_id}", "One invoice", User, One("InvoiceResponse")),
    route(
        "http-post-invoice-pay",
        "POST",
        "/api/billing/invoices/{invoice_id}/pay",
        "Charge an invoice",
        User,
        One("InvoiceResponse"),
    ),
    Route {
        creates: true,
        ..route(
            "http-post-invoices-generate",
            "POST",
            "/api/billing/account/{organization_id}/invoices/generate",
            "Invoice unbilled usage now",
            User,
            One("InvoiceResponse"),
        )
    },
    route("webhook-stripe", "POST", "/api/billing/webhook", "Stripe events (signed)", Stripe, Object),
    Route {
        request: Some(Body::Required("AdminReasonRequest")),
        ..route(
            "http-post-admin-suspend",
            "POST",
            "/api/billing/admin/accounts/{organization_id}/suspend",
            "Suspend an account (operators)",
            User,
            One("AccountStandingResponse"),
        )
    },
    Route {
        request: Some(Body::Required("AdminReasonRequest")),
        ..route(
            "http-post-admin-unsuspend",
            "POST",
            "/api/billing/admin/accounts/{organization_id}/unsuspend",
            "Lift a suspension (operators)",
            User,
            One("AccountStandingResponse"),
        )
    },
    Route {
        request: Some(Body::Required("CreditGrantRequest")),
        ..route(
            "http-post-admin-credits",
            "POST",
            "/api/billing/admin/accounts/{organization_id}/credits",
            "Grant or remove credits (operators)",
            User,
            One("CreditGrantResponse"),
        )
    },
    Route {
        request: Some(Body::Required("LimitsRequest")),
        ..route(
            "http-put-admin-limits",
            "PUT",
            "/api/billing/admin/accounts/{organization_id}/limits",
            "Override an account's limits (operators)",
            User,
            One("LimitsResponse"),
        )
    },
    Route {
        query: &[
            query("organization_id", Accepts::Id),
            query("flag", Accepts::FlagName),
            query("queue", Accepts::Id),
            FROM,
            TO,
            LIMIT,
            CURSOR,
        ],
        ..route(
            "http-get-admin-audit",
            "GET",
            "/api/billing/admin/audit",
            "An organization's, a flag's or a queue's audit trail (operators)",
            User,
            List("AuditEntryResponse"),
        )
    },
    route(
        "http-get-admin-health",
        "GET",
        "/api/billing/admin/health",
        "Queues, schedules, Stripe and the table at a glance (operators)",
        User,
        One("HealthResponse"),
    ),
    Route {
        request: Some(Body::Required("AdminReasonRequest")),
        ..route(
            "http-post-admin-queue-redrive",
            "POST",
            "/api/billing/admin/queues/{queue}/redrive",
            "Move a dead-letter queue's messages back to their queue (operators)",
            User,
            One("RedriveResponse"),
        )
    },
    Route {
        query: &[
            query("organization_id_prefix", Accepts::Id),
            query("status", Accepts::OneOf(ACCOUNT_STATUSES)),
            query("tier", Accepts::CatalogId),
            query("stripe_customer_id", Accepts::Id),
            query("billing_email", Accepts::Email),
            LIMIT,
            CURSOR,
        ],
        ..route(
            "http-get-admin-accounts",
            "GET",
            "/api/billing/admin/accounts",
            "Search the account directory (operators)",
            User,
            List("AccountSummary"),
        )
    },
    route(
        "http-get-admin-account",
        "GET",
        "/api/billing/admin/accounts/{organization_id}",
        "One account in full (operators)",
        User,
        One("AccountDetailResponse"),
    ),
    Route {
        request: Some(Body::Required("VoidInvoiceRequest")),
        ..route(
            "http-post-admin-invoice-void",
            "POST",
            "/api/billing/admin/invoices/{invoice_id}/void",
            "Void an unpaid invoice (operators)",
            User,
            One("InvoiceActionResponse"),
        )
    },
    Route {
        request: Some(Body::Required("AdminReasonRequest")),
        ..route(
            "http-post-admin-invoice-uncollectible",
            "POST",
            "/api/billing/admin/invoices/{invoice_id}/uncollectible",
            "Write an unpaid invoice off as uncollectible (operators)",
            User,
            One("InvoiceActionResponse"),
        )
    },
    Route {
        request: Some(Body::Required("PromoCodeRequest")),
        creates: true,
        ..route(
            "http-post-admin-promo-code",
            "POST",
            "/api/billing/admin/promo-codes",
            "Create a promotion code, mirrored to Stripe (operators)",
            User,
            One("PromoCodeResponse"),
        )
    },
    route(
        "http-get-admin-promo-codes",
        "GET",
        "/api/billing/admin/promo-codes",
        "Every promotion code with its redemptions (operators)",
        User,
        One("PromoCodeListResponse"),
    ),
    route(
        "http-post-admin-promo-code-deactivate",
        "POST",
        "/api/billing/admin/promo-codes/{code}/deactivate",
        "Deactivate a promotion code (operators)",
        User,
        One("PromoCodeResponse"),
    ),
    route(
        "http-get-admin-flags",
        "GET",
        "/api/billing/admin/flags",
        "Every feature flag with its default and tier values (operators)",
        User,
        One("FlagListResponse"),
    ),
    route(
        "http-get-admin-flag",
        "GET",
        "/api/billing/admin/flags/{flag}",
        "A feature flag (operators)",
        User,
        One("FlagResponse"),
    ),
    Route {
        request: Some(Body::Required("FlagRequest")),
        ..route(
            "http-put-admin-flag",
            "PUT",
            "/api/billing/admin/flags/{flag}",
            "Define a feature flag's default and tier values (operators)",
            User,
            One("FlagResponse"),
        )
    },
    Route {
        request: Some(Body::Required("OrganizationFlagRequest")),
        ..route(
            "http-put-admin-account-flag",
            "PUT",
            "/api/billing/admin/accounts/{organization_id}/flags/{flag}",
            "Override a feature flag for an organization (operators)",
            User,
            One("OrganizationFlagResponse"),
        )
    },
    route(
        "http-get-features",
        "GET",
        "/api/billing/account/{organization_id}/features",
        "The organization's feature flags",
        User,
        One("FeaturesResponse"),
    ),
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
        Either(first, second) => Schema::OneOf(
            OneOfBuilder::new().item(Ref::from_schema_name(first)).item(Ref::from_schema_name(second)).build(),
        )
        .into(),
        Csv => ObjectBuilder::new().schema_type(Type::String).build().into(),
    }
}

fn gateway_refusal(why: &str) -> utoipa::openapi::Response {
    let body = Ref::from_schema_name("GatewayError");
    ResponseBuilder::new()
        .description(format!("{why}: refused by API Gateway, `{{message}}`"))
        .content("application/json", json(body.into()))
        .build()
}

fn function_refusal(why: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(format!("{why}: `{{detail, code}}`"))
        .content("application/json", json(Ref::from_schema_name("ErrorBody").into()))
        .build()
}

fn gateway_or_function_refusal() -> utoipa::openapi::Response {
    let either =
        OneOfBuilder::new().item(Ref::from_schema_name("ErrorBody")).item(Ref::from_schema_name("GatewayError"));
    ResponseBuilder::new()
        .description("Not the workflow engine: `{message}` from API Gateway or `{detail, code}`")
        .content("application/json", json(Schema::OneOf(either.build()).into()))
        .build()
}

fn json(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// Operators' routes that move money and so take (and require) an `Idempotency-Key`.
const KEYED_OPERATOR_ROUTES: &[&str] = &["/api/billing/admin/accounts/{organization_id}/credits"];

/// Identifiers in paths: what `domain::ids::is_safe_id` accepts.
const SAFE_ID: &str = "^[A-Za-z0-9_-]{1,64}$";
const FLAG_NAME: &str = "^[a-z][a-z0-9_.-]{0,63}$";
/// What `lambda::http::idempotency_key` accepts: 1 to 200 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = "^[!-~]{1,200}$";

fn pattern(regex: &str) -> Schema {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(regex)).build().into()
}

impl Accepts {
    fn schema(self) -> Schema {
        let string = || ObjectBuilder::new().schema_type(Type::String);
        match self {
            Self::Instant => {
                let date = string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
                let time = string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
                // `anyOf`: both are strings, so a linter cannot see that no value is both.
                Schema::AnyOf(utoipa::openapi::schema::AnyOfBuilder::new().item(date).item(time).build())
            }
            Self::ExportSize => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(crate::exports::http::EXPORT_ROWS))
                .build()
                .into(),
            Self::Date => string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).build().into(),
            Self::PageSize => {
                ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(100)).build().into()
            }
            Self::Cursor => string().build().into(),
            Self::Flag => ObjectBuilder::new().schema_type(Type::Boolean).build().into(),
            Self::OneOf(words) => string().enum_values(Some(words.iter().copied())).build().into(),
            Self::CatalogId => pattern("^[a-z0-9_-]{1,32}$"),
            Self::Id => pattern(SAFE_ID),
            Self::FlagName => pattern(FLAG_NAME),
            Self::Email => string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Email))).build().into(),
        }
    }
}

/// A route's operation id: its function's binary in camelCase without the `http-` trigger
/// (`http-get-account` → `getAccount`, `webhook-stripe` → `webhookStripe`). Binaries are unique,
/// so ids are, and a generated client's function names follow the function packages.
pub fn operation_id(binary: &str) -> String {
    let name = binary.strip_prefix("http-").unwrap_or(binary);
    let mut id = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '-' | '_' => upper = true,
            c if upper => {
                id.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => id.push(c),
        }
    }
    id
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Schemas::openapi();
    // Relative: the document is served by the API it describes, on whatever host that is.
    doc.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    for route in ROUTES {
        let mut op =
            OperationBuilder::new().summary(Some(route.summary)).operation_id(Some(operation_id(route.binary)));
        let params = route.path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'));
        for name in params {
            op = op.parameter(
                ParameterBuilder::new().name(name).parameter_in(ParameterIn::Path).required(Required::True).schema(
                    Some(match name {
                        "flag" => pattern(FLAG_NAME),
                        "kind" => Accepts::OneOf(&crate::exports::http::ExportKind::NAMES).schema(),
                        _ => pattern(SAFE_ID),
                    }),
                ),
            );
        }
        for query in route.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(query.name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(query.accepts.schema())),
            );
        }
        // Every POST a customer makes moves money or the plan, so each takes a key; of the
        // operators' routes, those that move money.
        let operators = route.path.starts_with("/api/billing/admin/");
        if route.caller == User && route.method == "POST" && (!operators || KEYED_OPERATOR_ROUTES.contains(&route.path))
        {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some("A repeat with the same key and body gets the first answer again."))
                    .schema(Some(pattern(IDEMPOTENCY_KEY))),
            );
        }
        if let Some(body) = route.request {
            let (name, required) = match body {
                Body::Required(name) => (name, Required::True),
                Body::Optional(name) => (name, Required::False),
            };
            let content = json(Ref::from_schema_name(name).into());
            op = op.request_body(Some(
                RequestBodyBuilder::new().required(Some(required)).content("application/json", content).build(),
            ));
        }
        let mut ok = match route.answer {
            Csv => {
                let file = utoipa::openapi::HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("`attachment; filename=\"<organization_id>-<kind>.csv\"`"));
                ResponseBuilder::new()
                    .description("A CSV file: a header row, then one row per record")
                    .content("text/csv", json(body(route.answer)))
                    .header("content-disposition", file.build())
            }
            answer => ResponseBuilder::new().description("Success").content("application/json", json(body(answer))),
        };
        if let List(_) | Csv = route.answer {
            let next = utoipa::openapi::HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("The `cursor` of the next page; absent on the last page."));
            ok = ok.header(crate::lambda::http::NEXT_CURSOR_HEADER, next.build());
        }
        let refused = ResponseBuilder::new()
            .description("Refused: `{detail, code}`")
            .content("application/json", json(Ref::from_schema_name("ErrorBody").into()));
        op = op.response("200", ok.build()).response("default", refused.build());
        if route.creates {
            let created =
                ResponseBuilder::new().description("Created").content("application/json", json(body(route.answer)));
            op = op.response("201", created.build());
        }
        op = match route.caller {
            User => op
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .response("401", gateway_refusal("No valid token")),
            // API Gateway refuses an unsigned or wrongly signed request with 403 itself; the
            // function refuses a principal that is not the workflow engine with `{detail, code}`.
            Service => op
                .security(SecurityRequirement::new("sigv4", Vec::<String>::new()))
                .response("403", gateway_or_function_refusal()),
            // Explicitly open, so generators and linters do not read it as an oversight.
            Public => op.securities(Some(Vec::<SecurityRequirement>::new())),
            Stripe => op.securities(Some(Vec::<SecurityRequirement>::new())).response(
                "400",
                function_refusal("A missing, wrong or stale `Stripe-Signature`, or a payload that is not an event"),
            ),
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
