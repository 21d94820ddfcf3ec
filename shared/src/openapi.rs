//! The OpenAPI 3.1 description of the HTTP API, served at `GET /api/billing/openapi.json`.
//!
//! Schemas are derived from the request and response types themselves (utoipa). The route
//! table, [`ROUTES`], is generated (`make generate`, `infra/gen/generate.py`) into
//! `openapi/routes.rs`: each route's method, path and caller from template.yaml, its summary,
//! types and query parameters from its function's package (`[package.metadata.billing]` in
//! `functions/<binary>/Cargo.toml`). This file holds what every route shares.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ArrayBuilder, ContentBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Ref, RefOr, Required, ResponseBuilder,
    Schema, SchemaFormat, Type,
};
use utoipa::{OpenApi, ToSchema};

mod routes;

pub use routes::ROUTES;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Billing API",
        description = "Usage-based billing: quota, purchases, subscriptions, usage, costs and invoices."
    ),
    components(schemas(crate::error::ErrorBody, GatewayError))
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
    /// Takes an `Idempotency-Key` though it is an operators' route (every customer POST does):
    /// those that move money.
    pub idempotency_key: bool,
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

use Answer::{Csv, Either, List, Object, One};
use Caller::{Public, Service, Stripe, User};

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
        // operators' routes, those that move money (`idempotency_key = true` in their package).
        let operators = route.path.starts_with("/api/billing/admin/");
        if route.caller == User && route.method == "POST" && (!operators || route.idempotency_key) {
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
    let mut schemas = Vec::new();
    routes::schemas(&mut schemas);
    components.schemas.extend(schemas);
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

/// Adds `T`'s schema, and those of the types it contains, under their names: what
/// `#[openapi(components(schemas(T)))]` does for a type.
fn schema<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    T::schemas(schemas);
    schemas.push((T::name().into_owned(), T::schema()));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated table names schemas by their types' names; each must be one the document has.
    #[test]
    fn every_schema_a_route_names_is_in_the_document() {
        let doc = document();
        let have = &doc.components.as_ref().unwrap().schemas;
        for route in ROUTES {
            let body = match route.request {
                Some(Body::Required(name) | Body::Optional(name)) => vec![name],
                None => vec![],
            };
            let answer = match route.answer {
                One(name) | List(name) => vec![name],
                Either(first, second) => vec![first, second],
                Object | Csv => vec![],
            };
            for name in body.into_iter().chain(answer) {
                assert!(have.contains_key(name), "{}: no schema {name}", route.binary);
            }
        }
    }
}
