//! DKIM signing of outgoing mail with loaded keys kept in memory: decrypting
//! and loading an RSA key costs about as much as a signature, so a key is
//! loaded once and kept for a short while, never past a rotated-in key's turn.

use super::Sending;
use crate::ServiceError;
use crate::identity::keys::KeyKind;
use crate::identity::own_keys::sealing_label;
use absender_core::rotation::{KeySlot, signer};
use absender_mail::dkim::{self, DkimKey, SigningKey};
use std::sync::Arc;
use std::time::Duration;

/// How long a loaded key is used before the store is asked again.
const KEEP_FOR: Duration = Duration::from_secs(30);

/// The keys that sign (none, one, or an RSA and an Ed25519 key) and, while
/// a rotated-in key waits for its turn, when that turn comes: the entry is
/// used until then only, so signing moves on at that moment on every node.
#[derive(Clone)]
struct Loaded {
    keys: Vec<Arc<SigningKey>>,
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
    /// The keys loaded for `name`, if they are still the ones to use at `now`.
    fn get(&self, name: &str, now: i64) -> Option<Vec<Arc<SigningKey>>> {
        self.0
            .get(name)
            .filter(|loaded| loaded.until.is_none_or(|until| now < until))
            .map(|loaded| loaded.keys)
    }

    fn put(&self, name: String, keys: Vec<Arc<SigningKey>>, until: Option<i64>) {
        self.0.insert(name, Loaded { keys, until });
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
    /// The organization's signing keys for `domain`: its own key if it gave
    /// one; else the Easy DKIM RSA key whose turn it is, and its Ed25519 key
    /// if it has one (RFC 8463: both sign).
    async fn org_keys(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<Vec<Arc<SigningKey>>, ServiceError> {
        let name = format!("{org_id}/{domain}");
        let now = self.app.now_ms();
        if let Some(keys) = self.app.inner.signing_keys.get(&name, now) {
            return Ok(keys);
        }
        let store = &self.app.inner.store;
        // An own key signs once a check has seen its TXT record; until then
        // the Easy DKIM keys behind it do (still published by absender).
        let own = store.own_dkim_key(org_id, domain).await?;
        if let Some(own) = own.filter(|k| k.verified_at.is_some()) {
            let der = self
                .app
                .inner
                .master_key
                .open(&sealing_label(&own), &own.private_key_enc)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            let keys = vec![load(&own.domain, &own.selector, &der)?];
            self.app.inner.signing_keys.put(name, keys.clone(), None);
            return Ok(keys);
        }
        let rows = store.dkim_keys(org_id, domain).await?;
        let rsa: Vec<KeySlot> = rows
            .iter()
            .filter(|k| KeyKind::of(k) == KeyKind::Rsa)
            .map(|k| KeySlot {
                slot: k.slot,
                signs_from: k.signs_from,
            })
            .collect();
        // A rotated-in key signs only once resolvers can see it.
        let signing = signer(&rsa, now);
        let next_turn = rows
            .iter()
            .map(|k| k.signs_from)
            .filter(|&from| from > now)
            .min();
        let mut chosen: Vec<_> = rows
            .iter()
            .filter(|k| match KeyKind::of(k) {
                KeyKind::Rsa => Some(k.slot) == signing,
                KeyKind::Ed25519 => k.signs_from <= now,
            })
            .collect();
        // The RSA signature on top: some verifiers read only the first.
        chosen.sort_by_key(|k| KeyKind::of(k) != KeyKind::Rsa);
        if !chosen.iter().any(|k| KeyKind::of(k) == KeyKind::Rsa) {
            return Err(ServiceError::Internal(format!("{domain} has no DKIM key")));
        }
        let mut keys = Vec::with_capacity(chosen.len());
        for row in chosen {
            let der = self
                .app
                .inner
                .master_key
                .open(&row.selector, &row.private_key_enc)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            keys.push(load(&row.domain, &row.selector, &der)?);
        }
        self.app
            .inner
            .signing_keys
            .put(name, keys.clone(), next_turn);
        Ok(keys)
    }

    /// The platform's newest key, if it has one.
    async fn platform_key(&self) -> Result<Vec<Arc<SigningKey>>, ServiceError> {
        if let Some(keys) = self
            .app
            .inner
            .signing_keys
            .get("platform", self.app.now_ms())
        {
            return Ok(keys);
        }
        let keys = match self.app.zones().platform_signing_key().await? {
            Some(k) => vec![load(&k.domain, &k.selector, &k.pkcs8_der)?],
            None => Vec::new(),
        };
        self.app
            .inner
            .signing_keys
            .put("platform".into(), keys.clone(), None);
        Ok(keys)
    }

    /// Signs with the organization's keys for `custom_domain` (if the mail
    /// goes out from its own address) and with the platform's key.
    pub(crate) async fn sign(
        &self,
        org_id: &str,
        custom_domain: Option<&str>,
        unsigned: &[u8],
    ) -> Result<Vec<u8>, ServiceError> {
        let mut keys = Vec::with_capacity(3);
        if let Some(domain) = custom_domain {
            keys.extend(self.org_keys(org_id, domain).await?);
        }
        if self.app.inner.settings.sending.platform_signature || keys.is_empty() {
            keys.extend(self.platform_key().await?);
        }
        let keys: Vec<&SigningKey> = keys.iter().map(|k| k.as_ref()).collect();
        dkim::sign_with(unsigned, &keys).map_err(|e| ServiceError::Internal(e.to_string()))
    }
}
