//! Bring-your-own provider keys: customers on a tier that includes them save, list and remove
//! their keys; the workflow engine reads one decrypted. A key is never logged, and no route
//! but the workflow engine's internal one ever answers with it.

use crate::App;
use crate::byo_keys::rules::{self as byo_keys, ByoKeyError, StoredKey};
use crate::store::StoreError;
use crate::{catalog::rules::TierId, ids::OrganizationId};

#[derive(Debug, thiserror::Error)]
pub enum ByoError {
    #[error(transparent)]
    Invalid(#[from] ByoKeyError),
    #[error("The {0} plan does not include bring-your-own provider keys.")]
    NotInPlan(TierId),
    #[error("No {0} key is stored.")]
    NoKey(String),
    #[cfg(feature = "byo-keys")]
    #[error(transparent)]
    Envelope(#[from] crate::crypto::envelope::EnvelopeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every stored key's metadata (never the key), by provider.
pub async fn list(app: &App, org: &OrganizationId) -> Result<Vec<StoredKey>, ByoError> {
    Ok(app.store.byo_keys(org).await?)
}

/// The providers with a stored key, for `SubscriptionResponse.byo_providers_configured`.
pub async fn configured_providers(app: &App, org: &OrganizationId) -> Result<Vec<String>, StoreError> {
    Ok(app.store.byo_keys(org).await?.into_iter().map(|k| k.provider).collect())
}

pub async fn delete(app: &App, org: &OrganizationId, provider: &str) -> Result<(), ByoError> {
    let provider = byo_keys::provider(app.catalog(), provider)?;
    if app.store.delete_byo_key(org, provider).await? {
        tracing::info!(org = %org, provider, "BYO provider key removed");
        Ok(())
    } else {
        Err(ByoError::NoKey(provider.to_owned()))
    }
}

#[cfg(feature = "byo-keys")]
mod sealed {
    use super::*;
    use crate::byo_keys::store::Keyring as StoredKeyring;
    use crate::crypto::envelope::{DataKey, Keyring, Sealed};

    /// The organization's tier, if it includes bring-your-own keys.
    async fn byo_tier(app: &App, org: &OrganizationId) -> Result<TierId, ByoError> {
        let tier = app.store.get_account(org).await?.map_or_else(|| app.catalog().free_tier.clone(), |a| a.tier);
        match app.catalog().tier(tier.as_str()) {
            Some(t) if t.byo_keys => Ok(tier),
            _ => Err(ByoError::NotInPlan(tier)),
        }
    }

    /// The organization's data key, created on first need (one per organization, however many
    /// first saves race).
    async fn data_key(app: &App, keyring: &Keyring, org: &OrganizationId) -> Result<DataKey, ByoError> {
        for _ in 0..3 {
            if let Some(stored) = app.store.keyring(org).await? {
                let encrypted = stored.encrypted().ok_or(crate::crypto::envelope::EnvelopeError::Tampered)?;
                return Ok(keyring.open_data_key(org, &encrypted).await?);
            }
            let (key, encrypted) = keyring.new_data_key(org).await?;
            if app.store.create_keyring(&StoredKeyring::new(org, &encrypted, app.now())).await? {
                return Ok(key);
            }
            // Another save created it first: use theirs.
        }
        Err(ByoError::Store(StoreError::Dynamo {
            operation: "PutItem",
            message: "the organization's data key kept changing".into(),
        }))
    }

    /// Seals and stores the key for `provider` (replacing any earlier one).
    pub async fn save(
        app: &App,
        org: &OrganizationId,
        provider: &str,
        api_key: &str,
        base_url: Option<&str>,
    ) -> Result<StoredKey, ByoError> {
        let provider = byo_keys::provider(app.catalog(), provider)?.to_owned();
        byo_keys::check_key(api_key)?;
        if let Some(url) = base_url {
            byo_keys::check_base_url(url)?;
        }
        byo_tier(app, org).await?;
        let keyring = Keyring::new(&app.aws, app.config.byo_keys_kms_key_id.as_deref())?;
        let key = data_key(app, &keyring, org).await?;
        let sealed = key.seal(&byo_keys::additional_data(org, &provider), api_key)?;
        let now = app.now();
        let created_at = app.store.byo_key(org, &provider).await?.map_or(now, |k| k.created_at);
        let stored = StoredKey {
            pk: crate::store::keys::org_partition(org),
            sk: StoredKey::sort_key(&provider),
            organization_id: org.clone(),
            provider: provider.clone(),
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
            last_four: byo_keys::last_four(api_key),
            base_url: base_url.map(str::to_owned),
            created_at,
            updated_at: now,
            last_used_at: None,
        };
        app.store.put_byo_key(&stored).await?;
        tracing::info!(org = %org, provider, "BYO provider key saved");
        Ok(stored)
    }

    /// The decrypted key for the workflow engine, while the plan includes BYO keys; records
    /// its use.
    pub async fn reveal(app: &App, org: &OrganizationId, provider: &str) -> Result<(String, StoredKey), ByoError> {
        let provider = byo_keys::provider(app.catalog(), provider)?;
        byo_tier(app, org).await?;
        let stored = app.store.byo_key(org, provider).await?.ok_or_else(|| ByoError::NoKey(provider.to_owned()))?;
        let keyring = Keyring::new(&app.aws, app.config.byo_keys_kms_key_id.as_deref())?;
        let key = data_key(app, &keyring, org).await?;
        let sealed = Sealed { nonce: stored.nonce.clone(), ciphertext: stored.ciphertext.clone() };
        let api_key = key.open(&byo_keys::additional_data(org, provider), &sealed)?;
        let now = app.now();
        app.store.touch_byo_key(org, provider, now).await?;
        tracing::info!(org = %org, provider, "BYO provider key read by the workflow engine");
        Ok((api_key, StoredKey { last_used_at: Some(now), ..stored }))
    }
}

#[cfg(feature = "byo-keys")]
pub use sealed::{reveal, save};

// How this flow's errors reach a client (status and code), beside the errors.

impl From<crate::byo_keys::flow::ByoError> for crate::error::ApiError {
    fn from(err: crate::byo_keys::flow::ByoError) -> Self {
        use crate::byo_keys::flow::ByoError as E;
        use crate::byo_keys::rules::ByoKeyError as K;
        match err {
            E::Store(e) => e.into(),
            E::Invalid(K::UnknownProvider(..)) => Self::bad_request("unknown_provider", err.to_string()),
            E::Invalid(K::InvalidKey) => Self::bad_request("invalid_api_key", err.to_string()),
            E::Invalid(K::InvalidBaseUrl) => Self::bad_request("invalid_base_url", err.to_string()),
            E::NotInPlan(_) => Self::Conflict { code: "byo_keys_not_in_plan", detail: err.to_string() },
            E::NoKey(_) => Self::not_found("byo_key_not_found", err.to_string()),
            #[cfg(feature = "byo-keys")]
            E::Envelope(e) => {
                use crate::crypto::envelope::EnvelopeError as V;
                match e {
                    // Said plainly, never answered with a wrong key: the customer saves it again.
                    V::Tampered => Self::Conflict {
                        code: "byo_key_unreadable",
                        detail: "The stored key no longer decrypts (it was altered or corrupted); save it again."
                            .into(),
                    },
                    V::Kms(why) => Self::Unavailable(format!("KMS: {why}")),
                    V::NotConfigured | V::Seal => Self::Internal(anyhow::anyhow!(e)),
                }
            }
        }
    }
}
