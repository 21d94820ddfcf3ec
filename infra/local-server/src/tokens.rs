//! Locally signed HS256 tokens standing in for the identity provider, verified the way API
//! Gateway's JWT authorizer verifies real ones (signature, issuer, audience, expiry), and
//! flattened into string claims the way it passes them to functions.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://billing.local/issuer";
pub const AUDIENCE: &str = "billing-local";

#[derive(Clone)]
pub struct DevTokens {
    secret: String,
}

impl std::fmt::Debug for DevTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevTokens(***)")
    }
}

impl DevTokens {
    pub fn new(secret: impl Into<String>) -> Self {
        Self { secret: secret.into() }
    }

    /// A fresh random secret, for a server run or a test.
    pub fn random() -> Self {
        Self::new(format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Signs `extra` claims (e.g. `org_id`, `groups`) with issuer, audience and a 12-hour expiry.
    pub fn mint(&self, subject: &str, extra: Value) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({ "sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 12 * 3600 });
        if let (Some(base), Value::Object(more)) = (claims.as_object_mut(), extra) {
            base.extend(more);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(self.secret.as_bytes()))
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// A member of `org` who reads its billing (no role claim: a member).
    pub fn member(&self, org: &str) -> String {
        self.mint(&format!("user-{org}"), json!({ "org_id": org }))
    }

    /// The owner of `org`, who may also move money and change the plan.
    pub fn owner(&self, org: &str) -> String {
        self.mint(&format!("owner-{org}"), json!({ "org_id": org, "org_role": "owner" }))
    }

    pub fn billing_admin(&self, org: &str) -> String {
        self.mint(&format!("billing-admin-{org}"), json!({ "org_id": org, "org_role": "billing_admin" }))
    }

    pub fn admin(&self) -> String {
        self.mint("admin", json!({ "groups": ["billing-admin"] }))
    }

    /// Verifies a bearer token and returns its claims as API Gateway hands them to a function.
    pub fn verify(&self, token: &str) -> Result<HashMap<String, String>, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        // Like API Gateway's JWT authorizer: a token without an issuer or audience is refused,
        // not just one with the wrong ones.
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
            token,
            &DecodingKey::from_secret(self.secret.as_bytes()),
            &validation,
        )?;
        Ok(data.claims.into_iter().map(|(k, v)| (k, flatten_claim(&v))).collect())
    }
}

/// API Gateway passes every claim as a string; arrays become `[a b c]`.
fn flatten_claim(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(flatten_claim).collect();
            format!("[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_and_list_claims_are_flattened_like_api_gateway() {
        let tokens = DevTokens::random();
        let claims = tokens.verify(&tokens.mint("u", json!({ "org_ids": ["a", "b"] }))).unwrap();
        assert_eq!(claims["org_ids"], "[a b]");
        assert_eq!(claims["sub"], "u");
    }

    #[test]
    fn tokens_signed_with_another_secret_or_expired_are_rejected() {
        let tokens = DevTokens::random();
        assert!(tokens.verify(&DevTokens::random().member("demo")).is_err());
        let expired = tokens.mint("u", json!({ "exp": 1_000 }));
        assert!(tokens.verify(&expired).is_err());
        for missing in ["iss", "aud"] {
            let claims =
                json!({ "sub": "u", "exp": chrono::Utc::now().timestamp() + 60, "iss": ISSUER, "aud": AUDIENCE });
            let mut claims = claims.as_object().unwrap().clone();
            claims.remove(missing);
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(tokens.secret.as_bytes()),
            )
            .unwrap();
            assert!(tokens.verify(&token).is_err(), "a token without {missing} is refused");
        }
        assert!(tokens.verify("not-a-token").is_err());
    }
}
