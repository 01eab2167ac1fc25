//! DKIM signing of outgoing mail with loaded keys kept in memory: decrypting
//! and loading an RSA key costs about as much as a signature, so a key is
//! loaded once and kept for a short while, never past a rotated-in key's turn.

use super::Sending;
use crate::ServiceError;
use absender_core::rotation::{KeySlot, signer};
use absender_mail::dkim::{self, DkimKey, SigningKey};
use std::sync::Arc;
use std::time::Duration;

/// How long a loaded key is used before the store is asked again.
const KEEP_FOR: Duration = Duration::from_secs(30);

/// A loaded key (`None`: there is none to load) and, while a rotated-in
/// key waits for its turn, when that turn comes: the entry is used until
/// then only, so signing moves on at that moment on every node.
#[derive(Clone)]
struct Loaded {
    key: Option<Arc<SigningKey>>,
    until: Option<i64>,
}

/// Loaded keys by "org/domain" (an organization's signing key) or
/// "platform", each for [`KEEP_FOR`] at most.
pub(crate) struct KeyCache(moka::sync::Cache<String, Loaded>);

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
    /// The key loaded for `name`, if it is still the one to use at `now`.
    fn get(&self, name: &str, now: i64) -> Option<Option<Arc<SigningKey>>> {
        self.0
            .get(name)
            .filter(|loaded| loaded.until.is_none_or(|until| now < until))
            .map(|loaded| loaded.key)
    }

    fn put(&self, name: String, key: Option<Arc<SigningKey>>, until: Option<i64>) {
        self.0.insert(name, Loaded { key, until });
    }

    /// Forgets the organization's key for `domain` (its keys changed), so
    /// that the next mail reads when the new key's turn comes. Other nodes
    /// read again within [`KEEP_FOR`], long before that turn.
    pub(crate) fn forget(&self, org_id: &str, domain: &str) {
        self.0.invalidate(&format!("{org_id}/{domain}"));
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
        let name = format!("{org_id}/{domain}");
        let now = self.app.now_ms();
        if let Some(Some(key)) = self.app.inner.signing_keys.get(&name, now) {
            return Ok(key);
        }
        let keys = self.app.inner.store.dkim_keys(org_id, domain).await?;
        let slots: Vec<KeySlot> = keys
            .iter()
            .map(|k| KeySlot {
                slot: k.slot,
                signs_from: k.signs_from,
            })
            .collect();
        // The key whose turn it is (a rotated-in key only once resolvers see it).
        let signing = signer(&slots, now);
        let next_turn = slots
            .iter()
            .map(|k| k.signs_from)
            .filter(|&from| from > now)
            .min();
        let row = keys
            .into_iter()
            .find(|k| Some(k.slot) == signing)
            .ok_or_else(|| ServiceError::Internal(format!("{domain} has no DKIM key")))?;
        let der = self
            .app
            .inner
            .master_key
            .open(&row.selector, &row.private_key_enc)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let key = load(&row.domain, &row.selector, &der)?;
        self.app
            .inner
            .signing_keys
            .put(name, Some(key.clone()), next_turn);
        Ok(key)
    }

    /// The platform's newest key, if it has one.
    async fn platform_key(&self) -> Result<Option<Arc<SigningKey>>, ServiceError> {
        if let Some(key) = self
            .app
            .inner
            .signing_keys
            .get("platform", self.app.now_ms())
        {
            return Ok(key);
        }
        let key = match self.app.zones().platform_signing_key().await? {
            Some(k) => Some(load(&k.domain, &k.selector, &k.pkcs8_der)?),
            None => None,
        };
        self.app
            .inner
            .signing_keys
            .put("platform".into(), key.clone(), None);
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
