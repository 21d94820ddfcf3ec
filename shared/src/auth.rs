//! Who is calling, from the claims API Gateway's JWT authorizer has already verified.
//!
//! API Gateway checks the token's signature, issuer, audience and expiry before the function
//! runs and passes the claims in the request context. Handlers only decide what the caller
//! may do: every organization-scoped route checks membership (object-level authorization),
//! admin routes check the admin role.
//!
//! Inside an organization, a role claim (`org_role` unless configured otherwise) tells
//! `owner` and `billing_admin`, who may move money, change the plan, the budget and payment
//! methods, from `member`, who reads. A token without the claim is a member's.
//!
//! List claims arrive in several shapes: a JSON array string, API Gateway's flattened
//! `[a b c]` form, or a comma/space separated string. All are accepted.

use std::collections::{BTreeSet, HashMap};

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::ApiError;
use crate::ids::OrganizationId;

/// Members of this group may act on every organization and use `/admin` routes.
pub const ADMIN_GROUP: &str = "billing-admin";

/// What a caller may do inside their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRole {
    Owner,
    BillingAdmin,
    Member,
}

impl OrgRole {
    /// Reads a role claim; anything unknown (or none) is a member.
    pub fn from_claim(raw: Option<&str>) -> Self {
        match raw.map(str::trim) {
            Some("owner") => Self::Owner,
            Some("billing_admin") => Self::BillingAdmin,
            _ => Self::Member,
        }
    }

    pub fn manages_billing(self) -> bool {
        matches!(self, Self::Owner | Self::BillingAdmin)
    }
}

/// A caller authenticated by the JWT authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: Option<String>,
    pub organizations: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// Every claim as API Gateway passed it (the role claim's name is configuration).
    pub claims: HashMap<String, String>,
}

impl Caller {
    /// Reads the caller from the request context; no JWT claims means the request was not
    /// authenticated (which API Gateway would already have refused).
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| Self::from_claims(&jwt.claims))
                .ok_or(ApiError::Unauthenticated),
            _ => Err(ApiError::Unauthenticated),
        }
    }

    pub fn from_claims(claims: &HashMap<String, String>) -> Self {
        let list = |names: &[&str]| -> BTreeSet<String> {
            names.iter().filter_map(|n| claims.get(*n)).flat_map(|raw| parse_list_claim(raw)).collect()
        };
        Self {
            subject: claims.get("sub").cloned(),
            organizations: list(&["org_id", "org_ids"]),
            groups: list(&["groups", "cognito:groups"]),
            claims: claims.clone(),
        }
    }

    pub fn role(&self, claim: &str) -> OrgRole {
        OrgRole::from_claim(self.claims.get(claim).map(String::as_str))
    }

    /// Refuses with 403 unless the caller may manage `org`'s billing: an owner or billing
    /// admin of it, or a platform admin.
    pub fn require_billing_role(&self, org: &OrganizationId, claim: &str) -> Result<(), ApiError> {
        self.require_org(org)?;
        if self.is_admin() || self.role(claim).manages_billing() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "billing_role_required",
                "Only the organization's owner or a billing admin may change its billing.",
            ))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.groups.contains(ADMIN_GROUP)
    }

    pub fn can_access(&self, org: &OrganizationId) -> bool {
        self.is_admin() || self.organizations.contains(org.as_str())
    }

    /// Refuses with 403 unless the caller belongs to `org` (or is an admin).
    pub fn require_org(&self, org: &OrganizationId) -> Result<(), ApiError> {
        if self.can_access(org) {
            Ok(())
        } else {
            Err(ApiError::forbidden("organization_forbidden", "You do not have access to this organization's billing."))
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("admin_required", "This operation requires the billing-admin role."))
        }
    }
}

/// Splits a list-valued claim in any of the shapes it reaches us in.
pub fn parse_list_claim(raw: &str) -> Vec<String> {
    let trimmed = raw.trim();
    if let Ok(values) = serde_json::from_str::<Vec<String>>(trimmed) {
        return values.into_iter().filter(|v| !v.is_empty()).collect();
    }
    let inner = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(trimmed);
    inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|part| part.trim_matches('"'))
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn list_claims_are_read_in_every_shape_api_gateway_produces() {
        assert_eq!(parse_list_claim("[a b c]"), ["a", "b", "c"]);
        assert_eq!(parse_list_claim(r#"["a","b"]"#), ["a", "b"]);
        assert_eq!(parse_list_claim("a, b"), ["a", "b"]);
        assert_eq!(parse_list_claim("solo"), ["solo"]);
        assert!(parse_list_claim("[]").is_empty());
        assert!(parse_list_claim("").is_empty());
    }

    #[test]
    fn membership_comes_from_org_id_or_org_ids() {
        let one = Caller::from_claims(&claims(&[("sub", "u1"), ("org_id", "demo")]));
        let many = Caller::from_claims(&claims(&[("org_ids", "[demo acme]")]));
        let demo = OrganizationId::parse("demo").unwrap();
        let acme = OrganizationId::parse("acme").unwrap();
        assert!(one.require_org(&demo).is_ok());
        assert!(one.require_org(&acme).is_err());
        assert!(many.can_access(&demo) && many.can_access(&acme));
        assert_eq!(one.subject.as_deref(), Some("u1"));
    }

    #[test]
    fn only_owners_billing_admins_and_platform_admins_manage_billing() {
        let demo = OrganizationId::parse("demo").unwrap();
        let with_role = |role: &str| Caller::from_claims(&claims(&[("org_id", "demo"), ("org_role", role)]));
        assert!(with_role("owner").require_billing_role(&demo, "org_role").is_ok());
        assert!(with_role("billing_admin").require_billing_role(&demo, "org_role").is_ok());
        let refused = with_role("member").require_billing_role(&demo, "org_role").unwrap_err();
        assert_eq!((refused.status().as_u16(), refused.code()), (403, "billing_role_required"));
        assert!(with_role("superuser").require_billing_role(&demo, "org_role").is_err(), "unknown is a member");
        let no_claim = Caller::from_claims(&claims(&[("org_id", "demo")]));
        assert!(no_claim.require_billing_role(&demo, "org_role").is_err());
        // The role is the claim the deployment names.
        let custom = Caller::from_claims(&claims(&[("org_id", "demo"), ("custom:role", "owner")]));
        assert!(custom.require_billing_role(&demo, "custom:role").is_ok());
        // An owner of another organization is still an outsider here.
        let elsewhere = Caller::from_claims(&claims(&[("org_id", "acme"), ("org_role", "owner")]));
        assert_eq!(elsewhere.require_billing_role(&demo, "org_role").unwrap_err().code(), "organization_forbidden");
        let admin = Caller::from_claims(&claims(&[("groups", "[billing-admin]")]));
        assert!(admin.require_billing_role(&demo, "org_role").is_ok());
    }

    #[test]
    fn a_service_caller_is_matched_by_its_role_or_its_exact_arn() {
        let engine = ServiceCaller { arn: "arn:aws:sts::123456789012:assumed-role/workflow-engine/task-1".into() };
        assert!(engine.is_one_of(&["arn:aws:iam::123456789012:role/workflow-engine".into()]));
        assert!(engine.is_one_of(&["arn:aws:iam::123456789012:role/service/workflow-engine".into()]));
        assert!(!engine.is_one_of(&["arn:aws:iam::999999999999:role/workflow-engine".into()]), "another account");
        assert!(!engine.is_one_of(&["arn:aws:iam::123456789012:role/workflow".into()]));
        assert!(!engine.is_one_of(&[]));
        let user = ServiceCaller { arn: "arn:aws:iam::123456789012:user/ci".into() };
        assert!(user.is_one_of(&["arn:aws:iam::123456789012:user/ci".into()]));
    }

    #[test]
    fn admins_are_recognised_from_either_group_claim_and_reach_every_org() {
        let member = Caller::from_claims(&claims(&[("org_id", "demo"), ("groups", "[users]")]));
        let admin = Caller::from_claims(&claims(&[("cognito:groups", "[users billing-admin]")]));
        assert_eq!(member.require_admin().unwrap_err().status().as_u16(), 403);
        assert!(admin.require_admin().is_ok());
        assert!(admin.can_access(&OrganizationId::parse("anyone").unwrap()));
        // A group whose name merely contains the admin group's name is not the admin group.
        let lookalike = Caller::from_claims(&claims(&[("groups", "not-billing-admin")]));
        assert!(!lookalike.is_admin());
    }
}

/// A trusted AWS caller (the workflow engine) on an `AWS_IAM` route: API Gateway has checked
/// its SigV4 signature and IAM policy, and passes its identity in the request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCaller {
    pub arn: String,
}

impl ServiceCaller {
    /// Whether this caller is one of `allowed` (role or user ARNs). An assumed-role session
    /// (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`) is its role
    /// (`arn:aws:iam::<acct>:role/[path/]<role>`).
    pub fn is_one_of(&self, allowed: &[String]) -> bool {
        let as_role = self.arn.strip_prefix("arn:aws:sts::").and_then(|rest| {
            let (account, rest) = rest.split_once(":assumed-role/")?;
            let role = rest.split('/').next()?;
            Some((account.to_owned(), role.to_owned()))
        });
        allowed.iter().any(|principal| {
            principal == &self.arn
                || as_role.as_ref().is_some_and(|(account, role)| {
                    principal
                        .strip_prefix(&format!("arn:aws:iam::{account}:role/"))
                        .is_some_and(|path_and_name| path_and_name.rsplit('/').next() == Some(role.as_str()))
                })
        })
    }

    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.iam.as_ref())
                .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone()))
                .map(|arn| Self { arn })
                .ok_or(ApiError::Unauthenticated),
            _ => Err(ApiError::Unauthenticated),
        }
    }
}
