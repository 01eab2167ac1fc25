//! DKIM signing of outgoing mail with loaded keys kept in memory: decrypting
//! and loading an RSA key costs about as much as a signature, so a key is
//! loaded once and kept for a short while (a rotation is seen within that).

use super::Sending;
use crate::ServiceError;
use absender_mail::dkim::{self, DkimKey, SigningKey};
use std::sync::Arc;
use std::time::Duration;

/// How long a loaded key is used before the store is asked again.
const KEEP_FOR: Duration = Duration::from_secs(30);

/// Loaded keys by "org/domain" (an organization's active key) or
/// "platform", each for [`KEEP_FOR`] (`None`: there is none to load).
pub(crate) struct KeyCache(moka::sync::Cache<String, Option<Arc<SigningKey>>>);

impl Default for KeyCache {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(KEEP_FOR)
                .build(),
        )
    }
}

impl KeyCache {
    fn get(&self, slot: &str) -> Option<Option<Arc<SigningKey>>> {
        self.0.get(slot)
    }

    fn put(&self, slot: String, key: Option<Arc<SigningKey>>) {
        self.0.insert(slot, key);
    }
}

fn load(domain: &str, selector: &str, der: &[u8]) -> Result<Arc<SigningKey>, ServiceError> {
    SigningKey::load(&DkimKey {
        domain,
        selector,
        pkcs8_der: der,
    })
    .map(Arc::new)
    .map_err(|e| ServiceError::Internal(e.to_string()))
}

impl Sending<'_> {
    /// The organization's active key for `domain`.
    async fn org_key(&self, org_id: &str, domain: &str) -> Result<Arc<SigningKey>, ServiceError> {
        let slot = format!("{org_id}/{domain}");
        if let Some(Some(key)) = self.app.inner.signing_keys.get(&slot) {
            return Ok(key);
        }
        let row = self
            .app
            .inner
            .store
            .dkim_keys(org_id, domain)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Internal(format!("{domain} has no DKIM key")))?;
        let der = self
            .app
            .inner
            .master_key
            .open(&row.selector, &row.private_key_enc)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let key = load(&row.domain, &row.selector, &der)?;
        self.app.inner.signing_keys.put(slot, Some(key.clone()));
        Ok(key)
    }

    /// The platform's newest key, if it has one.
    async fn platform_key(&self) -> Result<Option<Arc<SigningKey>>, ServiceError> {
        if let Some(key) = self.app.inner.signing_keys.get("platform") {
            return Ok(key);
        }
        let key = match self.app.zones().platform_signing_key().await? {
            Some(k) => Some(load(&k.domain, &k.selector, &k.pkcs8_der)?),
            None => None,
        };
        self.app
            .inner
            .signing_keys
            .put("platform".into(), key.clone());
        Ok(key)
    }

    /// Signs with the organization's active key for `custom_domain` (if the
    /// mail goes out from its own address) and with the platform's key.
    pub(crate) async fn sign(
        &self,
        org_id: &str,
        custom_domain: Option<&str>,
        unsigned: &[u8],
    ) -> Result<Vec<u8>, ServiceError> {
        let mut keys = Vec::with_capacity(2);
        if let Some(domain) = custom_domain {
            keys.push(self.org_key(org_id, domain).await?);
        }
        if self.app.inner.settings.sending.platform_signature || keys.is_empty() {
            keys.extend(self.platform_key().await?);
        }
        let keys: Vec<&SigningKey> = keys.iter().map(|k| k.as_ref()).collect();
        dkim::sign_with(unsigned, &keys).map_err(|e| ServiceError::Internal(e.to_string()))
    }
}
