//! Shapes of the bring-your-own provider key routes. A key goes in once and comes out only to
//! the workflow engine: no customer or operator answer carries it, and its request's `Debug`
//! is redacted so it cannot reach a log line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::byo_keys::rules::StoredKey;

/// `PUT account/{org}/byo-keys/{provider}`.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ByoKeyRequest {
    #[schema(min_length = 8, max_length = 512)]
    pub api_key: String,
    /// An `https://` endpoint for proxies and compatible APIs (e.g. Z.ai's Anthropic endpoint).
    #[schema(max_length = 500)]
    pub base_url: Option<String>,
}

impl std::fmt::Debug for ByoKeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByoKeyRequest").field("api_key", &"<redacted>").field("base_url", &self.base_url).finish()
    }
}

/// A stored key as its owners see it: never the key, only its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ByoKeyResponse {
    pub provider: String,
    pub last_four: String,
    pub base_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the workflow engine last read it.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&StoredKey> for ByoKeyResponse {
    fn from(k: &StoredKey) -> Self {
        Self {
            provider: k.provider.clone(),
            last_four: k.last_four.clone(),
            base_url: k.base_url.clone(),
            created_at: k.created_at,
            updated_at: k.updated_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// `GET internal/byo-keys/{org}/{provider}` (the workflow engine, IAM): the key itself.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ByoKeySecretResponse {
    pub organization_id: String,
    pub provider: String,
    pub api_key: String,
    pub base_url: Option<String>,
}

impl std::fmt::Debug for ByoKeySecretResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByoKeySecretResponse")
            .field("organization_id", &self.organization_id)
            .field("provider", &self.provider)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}
