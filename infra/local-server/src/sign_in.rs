//! Dev sign-in for the web app under `make dev`: a link that mints a dev token and hands it to
//! the app the way an identity provider's implicit flow would, in the URL fragment
//! (`#access_token=<jwt>`), which never reaches a server log or a `Referer`.
//!
//! `GET /_local/sign-in?org=<org>&role=<owner|billing_admin|member>[&admin=1][&next=/path]`
//! answers `302 Location: <next>#access_token=<jwt>`. Local only: the route is added by the
//! local server, never by `template.yaml`. Inputs are checked as strictly as the API would
//! check them, so a link never yields a token the API then refuses, and `next` can only be a
//! path on this origin (no open redirect).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use billing::ids::OrganizationId;
use serde::Deserialize;
use serde_json::json;

use crate::tokens::DevTokens;

/// The fragment parameter the web app reads the token from.
pub const TOKEN_FRAGMENT: &str = "access_token";

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    pub org: Option<String>,
    pub role: Option<String>,
    pub admin: Option<String>,
    pub next: Option<String>,
}

/// A checked sign-in request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    org: Option<OrganizationId>,
    role: Role,
    admin: bool,
    next: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Owner,
    BillingAdmin,
    Member,
}

impl Role {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "billing_admin" => Some(Self::BillingAdmin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    /// The `org_role` claim; a member carries none (the API reads no claim as a member).
    fn claim(self) -> Option<&'static str> {
        match self {
            Self::Owner => Some("owner"),
            Self::BillingAdmin => Some("billing_admin"),
            Self::Member => None,
        }
    }

    fn as_str(self) -> &'static str {
        self.claim().unwrap_or("member")
    }
}

impl SignIn {
    /// Checks the query; the error is a short message for a 400.
    pub fn parse(query: &SignInQuery) -> Result<Self, String> {
        let admin = match query.admin.as_deref() {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => return Err(format!("admin must be 1 or 0, not {other:?}")),
        };
        let org = match query.org.as_deref() {
            Some(raw) => Some(
                OrganizationId::parse(raw)
                    .map_err(|_| format!("org {raw:?} is not an organization id (letters, digits, '-', '_')"))?,
            ),
            None if admin => None,
            None => return Err("org is required (or admin=1 for a platform admin)".to_owned()),
        };
        let role = match query.role.as_deref() {
            None => Role::Member,
            Some(raw) => {
                Role::parse(raw).ok_or_else(|| format!("role must be owner, billing_admin or member, not {raw:?}"))?
            }
        };
        let next = match query.next.as_deref() {
            Some(next) => check_next(next)?.to_owned(),
            None if admin && org.is_none() => "/admin".to_owned(),
            None => "/billing".to_owned(),
        };
        Ok(Self { org, role, admin, next })
    }

    /// The token's subject and extra claims.
    fn claims(&self) -> (String, serde_json::Value) {
        let mut claims = serde_json::Map::new();
        if let Some(org) = &self.org {
            claims.insert("org_id".into(), json!(org.as_str()));
            if let Some(role) = self.role.claim() {
                claims.insert("org_role".into(), json!(role));
            }
        }
        if self.admin {
            claims.insert("groups".into(), json!(["billing-admin"]));
        }
        let subject = match (&self.org, self.admin) {
            (Some(org), false) => format!("dev-{}-{org}", self.role.as_str()),
            (Some(org), true) => format!("dev-admin-{}-{org}", self.role.as_str()),
            (None, _) => "dev-admin".to_owned(),
        };
        (subject, serde_json::Value::Object(claims))
    }

    /// Where the browser goes, with the token in the fragment.
    pub fn location(&self, tokens: &DevTokens) -> String {
        let (subject, claims) = self.claims();
        format!("{}#{TOKEN_FRAGMENT}={}", self.next, tokens.mint(&subject, claims))
    }
}

/// A path on this origin: starts with one `/` (`//host` and `/\host` leave it), and nothing a
/// browser would read as another URL or that would break the fragment we append.
fn check_next(next: &str) -> Result<&str, String> {
    let bad = || format!("next must be a path on this server starting with '/', not {next:?}");
    let mut chars = next.chars();
    if chars.next() != Some('/') || matches!(chars.next(), Some('/' | '\\')) {
        return Err(bad());
    }
    if next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\' || c == '#') {
        return Err(bad());
    }
    Ok(next)
}

/// `GET /_local/sign-in`.
pub fn routes(tokens: DevTokens) -> Router {
    Router::new().route("/_local/sign-in", axum::routing::get(sign_in)).with_state(tokens)
}

async fn sign_in(State(tokens): State<DevTokens>, RawQuery(query): RawQuery) -> Response {
    let query = serde_urlencoded::from_str::<SignInQuery>(query.as_deref().unwrap_or(""))
        .map_err(|e| format!("unreadable query: {e}"));
    match query.and_then(|q| SignIn::parse(&q)) {
        Ok(sign_in) => {
            let Ok(location) = HeaderValue::from_str(&sign_in.location(&tokens)) else {
                return (StatusCode::BAD_REQUEST, "next is not a valid URL path\n").into_response();
            };
            let mut response = StatusCode::FOUND.into_response();
            let headers = response.headers_mut();
            headers.insert(header::LOCATION, location);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        Err(message) => (StatusCode::BAD_REQUEST, format!("sign-in refused: {message}\n")).into_response(),
    }
}

/// Sign-in links printed at start-up and written to `dev.env`: name → URL.
pub fn links(base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DEV_SIGN_IN_OWNER", format!("{base_url}/_local/sign-in?org=demo&role=owner")),
        ("DEV_SIGN_IN_MEMBER", format!("{base_url}/_local/sign-in?org=demo&role=member")),
        ("DEV_SIGN_IN_ADMIN", format!("{base_url}/_local/sign-in?admin=1")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> SignInQuery {
        let encoded = serde_urlencoded::to_string(pairs).unwrap();
        serde_urlencoded::from_str(&encoded).unwrap()
    }

    #[test]
    fn defaults_send_members_to_billing_and_org_less_admins_to_admin() {
        let member = SignIn::parse(&query(&[("org", "demo")])).unwrap();
        assert_eq!((member.role, member.next.as_str(), member.admin), (Role::Member, "/billing", false));
        let admin = SignIn::parse(&query(&[("admin", "1")])).unwrap();
        assert_eq!((admin.org, admin.next.as_str()), (None, "/admin"));
        let admin_in_org = SignIn::parse(&query(&[("admin", "1"), ("org", "demo"), ("role", "owner")])).unwrap();
        assert_eq!(admin_in_org.next, "/billing");
    }

    #[test]
    fn claims_carry_the_role_only_when_it_is_not_member_and_groups_only_for_admins() {
        let owner = SignIn::parse(&query(&[("org", "demo"), ("role", "owner")])).unwrap().claims();
        assert_eq!(owner.1, json!({ "org_id": "demo", "org_role": "owner" }));
        let member = SignIn::parse(&query(&[("org", "demo"), ("role", "member")])).unwrap().claims();
        assert_eq!(member.1, json!({ "org_id": "demo" }));
        let admin = SignIn::parse(&query(&[("admin", "1")])).unwrap().claims();
        assert_eq!(admin, ("dev-admin".to_owned(), json!({ "groups": ["billing-admin"] })));
    }

    #[test]
    fn bad_orgs_roles_admin_flags_and_foreign_next_urls_are_refused() {
        for bad in [
            vec![],
            vec![("org", "demo corp")],
            vec![("org", "")],
            vec![("org", "demo"), ("role", "admin")],
            vec![("org", "demo"), ("admin", "yes")],
            vec![("org", "demo"), ("next", "https://evil.example/")],
            vec![("org", "demo"), ("next", "//evil.example/")],
            vec![("org", "demo"), ("next", "/\\evil.example/")],
            vec![("org", "demo"), ("next", "billing")],
            vec![("org", "demo"), ("next", "/billing#x")],
            vec![("org", "demo"), ("next", "/bil ling")],
        ] {
            assert!(SignIn::parse(&query(&bad)).is_err(), "{bad:?}");
        }
        let ok = SignIn::parse(&query(&[("org", "org_01H-x"), ("next", "/billing/invoices/1?tab=pdf")])).unwrap();
        assert_eq!(ok.next, "/billing/invoices/1?tab=pdf");
    }
}
