//! Bring-your-own LLM provider keys: which providers, what a key and its base URL must look
//! like, and what is kept of a key besides its ciphertext (never the key itself).
//!
//! Keys are sealed with AES-256-GCM under a data key of the organization's own, which KMS
//! keeps encrypted (`crypto::envelope`); the additional data binds each ciphertext to its
//! organization and provider, so a ciphertext moved to another item does not open.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{catalog::rules::Catalog, ids::OrganizationId};

/// Longest key accepted (provider keys are well under this).
pub const MAX_KEY_CHARS: usize = 512;
/// Shortest key accepted: anything shorter is not a provider key.
pub const MIN_KEY_CHARS: usize = 8;
pub const MAX_BASE_URL_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ByoKeyError {
    #[error("{0:?} is not a provider keys can be brought for; use one of: {1}.")]
    UnknownProvider(String, String),
    #[error("api_key must be {MIN_KEY_CHARS} to {MAX_KEY_CHARS} printable characters without spaces.")]
    InvalidKey,
    #[error("base_url must be an https:// URL of at most {MAX_BASE_URL_CHARS} characters.")]
    InvalidBaseUrl,
}

/// A provider of the catalog's list, by id.
pub fn provider<'a>(catalog: &'a Catalog, id: &str) -> Result<&'a str, ByoKeyError> {
    catalog.byo_provider(id).map(|p| p.id.as_str()).ok_or_else(|| {
        let known: Vec<&str> = catalog.byo_providers.iter().map(|p| p.id.as_str()).collect();
        ByoKeyError::UnknownProvider(id.to_owned(), known.join(", "))
    })
}

pub fn check_key(key: &str) -> Result<(), ByoKeyError> {
    let length = key.chars().count();
    let printable = key.chars().all(|c| c.is_ascii_graphic());
    if (MIN_KEY_CHARS..=MAX_KEY_CHARS).contains(&length) && printable { Ok(()) } else { Err(ByoKeyError::InvalidKey) }
}

pub fn check_base_url(url: &str) -> Result<(), ByoKeyError> {
    let host = url.strip_prefix("https://").unwrap_or_default();
    let host_ok = host.split('/').next().is_some_and(|h| !h.is_empty() && !h.contains('@'));
    if host_ok && url.len() <= MAX_BASE_URL_CHARS && url.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(ByoKeyError::InvalidBaseUrl)
    }
}

/// The last four characters, all a customer sees again of a key.
pub fn last_four(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// What binds a ciphertext to its place: the organization and the provider.
pub fn additional_data(org: &OrganizationId, provider: &str) -> Vec<u8> {
    format!("byo-key:{org}:{provider}").into_bytes()
}

/// `ORG#<org>` / `BYOKEY#<provider>`: one stored key, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub organization_id: OrganizationId,
    pub provider: String,
    /// AES-256-GCM nonce and ciphertext (with its tag), base64.
    pub nonce: String,
    pub ciphertext: String,
    pub last_four: String,
    #[serde(default)]
    pub base_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
}

pub const KEY_PREFIX: &str = "BYOKEY#";

impl StoredKey {
    pub fn sort_key(provider: &str) -> String {
        format!("{KEY_PREFIX}{provider}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_come_from_the_catalog() {
        let catalog = Catalog::builtin();
        for id in ["minimax", "z_ai", "openai", "anthropic", "fireworks"] {
            assert_eq!(provider(&catalog, id), Ok(id));
        }
        assert!(matches!(provider(&catalog, "github"), Err(ByoKeyError::UnknownProvider(p, _)) if p == "github"));
    }

    #[test]
    fn keys_and_base_urls_are_checked() {
        assert_eq!(check_key("sk-ant-api03-abcdef"), Ok(()));
        for bad in ["short", "has space inside", "tab\tinside", &"k".repeat(MAX_KEY_CHARS + 1), "ключ-ключ-ключ"]
        {
            assert_eq!(check_key(bad), Err(ByoKeyError::InvalidKey), "{bad}");
        }
        assert_eq!(check_base_url("https://api.z.ai/api/anthropic"), Ok(()));
        for bad in ["http://api.z.ai", "https://", "https://user@host", "ftp://x", "https://a b"] {
            assert_eq!(check_base_url(bad), Err(ByoKeyError::InvalidBaseUrl), "{bad}");
        }
    }

    #[test]
    fn only_the_last_four_characters_are_kept_in_clear() {
        assert_eq!(last_four("sk-proj-1234567890abcd"), "abcd");
        assert_eq!(last_four("abc"), "abc");
    }
}
