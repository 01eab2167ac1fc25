//! DKIM key rotation behind the three selectors (`absender_core::rotation`
//! decides which slot): on request, over SES's `NextSigningKeyLength`, and
//! by itself once the newest key of a domain is older than
//! `dkim.rotate_after`. The customer's CNAMEs never change.

use super::Identities;
use crate::api::DkimRotation;
use crate::clock::rfc3339;
use crate::identity::keys::{self, KeyKind};
use crate::{Caller, ServiceError};
use absender_core::rotation::{KeySlot, NotNow, next_slot};
use std::time::Duration;

/// How long a key that stopped signing stays untouched: nodes keep a
/// loaded key for 30 s, and resolvers keep its record for its TTL.
const REPLACE_AFTER: Duration = Duration::from_secs(10 * 60);

/// The TTL absender's DNS gives key records: a resolver may hold the old
/// key this long after absender answers with the new one.
const KEY_RECORD_TTL: Duration = Duration::from_secs(300);

/// Domains rotated by one sweep, at most (each generates an RSA key).
const ROTATIONS_PER_SWEEP: i64 = 20;

impl Identities<'_> {
    /// `POST /api/v1/identities/{id}/rotate-dkim`: a new key for the
    /// identity's domain, signing once every resolver can see it.
    pub async fn rotate_dkim(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<DkimRotation, ServiceError> {
        let org = caller.org()?;
        let identity = self.identity_of(org, id).await?;
        let domain = &identity.row.domain;
        if let Some(own) = self.app.inner.store.own_dkim_key(&org.id, domain).await? {
            return Err(ServiceError::Conflict {
                code: "own_dkim_key",
                message: format!(
                    "{domain} is signed with your own key (selector {}); to rotate it, give absender a new key (PUT /api/v1/identities/{id}/dkim-key)",
                    own.selector
                ),
            });
        }
        self.rotate_domain(&org.id, domain).await
    }

    /// The rotation itself: a new RSA key goes into the slot
    /// `absender_core::rotation::next_slot` picks among the RSA slots.
    pub(crate) async fn rotate_domain(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<DkimRotation, ServiceError> {
        self.replace_key(org_id, domain, KeyKind::Rsa).await
    }

    /// Gives the domain an Ed25519 key (RFC 8463) in one of its selectors,
    /// if it has none: from then on its mail is signed twice, RSA and
    /// Ed25519, and RSA rotation takes turns between the other two.
    pub(crate) async fn add_ed25519(&self, org_id: &str, domain: &str) -> Result<(), ServiceError> {
        let keys = self.app.inner.store.dkim_keys(org_id, domain).await?;
        if keys.iter().any(|k| KeyKind::of(k) == KeyKind::Ed25519) {
            return Ok(());
        }
        self.replace_key(org_id, domain, KeyKind::Ed25519).await?;
        Ok(())
    }

    /// A new key of `kind` under the selector of the RSA slot that may give
    /// up its key now (it signed nothing still queued), signing from when
    /// absender's DNS answers it on every node (`dns.answer_cache_ttl`) and
    /// resolvers' copies of the old key have expired.
    async fn replace_key(
        &self,
        org_id: &str,
        domain: &str,
        kind: KeyKind,
    ) -> Result<DkimRotation, ServiceError> {
        let store = &self.app.inner.store;
        let keys = store.dkim_keys(org_id, domain).await?;
        if keys.is_empty() {
            return Err(ServiceError::NotFound("DKIM key"));
        }
        let now = self.app.now_ms();
        let in_progress = |signs_from: i64| ServiceError::Conflict {
            code: "rotation_in_progress",
            message: format!(
                "a new key of {domain} signs from {}; rotate again after that",
                rfc3339(signs_from)
            ),
        };
        if let Some(pending) = keys.iter().find(|k| k.signs_from > now) {
            return Err(in_progress(pending.signs_from));
        }
        // The Ed25519 key signs beside the RSA one; RSA slots take turns.
        let slots: Vec<KeySlot> = keys
            .iter()
            .filter(|k| KeyKind::of(k) == KeyKind::Rsa)
            .map(|k| KeySlot {
                slot: k.slot,
                signs_from: k.signs_from,
            })
            .collect();
        let oldest_queued = store.oldest_queued_from_domain(org_id, domain).await?;
        let slot = next_slot(
            &slots,
            now,
            oldest_queued,
            REPLACE_AFTER.as_millis() as i64,
        )
        .map_err(|refusal| match refusal {
            NotNow::InProgress { signs_from } => in_progress(signs_from),
            NotNow::MailStillQueued => ServiceError::Conflict {
                code: "rotation_blocked",
                message: format!(
                    "every other selector of {domain} signed mail that is still queued (or stopped signing minutes ago); rotate again once it has left"
                ),
            },
        })?;
        let old = keys
            .iter()
            .find(|k| k.slot == slot)
            .expect("the slot is one of the keys")
            .clone();
        let old_id = old.id.clone();
        let wait = self.app.inner.settings.dns.answer_cache_ttl + KEY_RECORD_TTL;
        let _permit = self
            .app
            .inner
            .key_generation
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("key generation closed".into()))?;
        let app = self.app.clone();
        let mut new = tokio::task::spawn_blocking(move || {
            keys::regenerate(&app.inner.master_key, &old, kind, now, now)
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("key generation failed: {e}")))?;
        // Timed from when the key exists (generation may have waited its turn).
        let made = self.app.now_ms();
        let signs_from = made + wait.as_millis() as i64;
        new.created_at = made;
        new.signs_from = signs_from;
        if !store.replace_dkim_key(&old_id, &new).await? {
            // Another node rotated the domain between our read and our write.
            return Err(in_progress(signs_from));
        }
        self.app.inner.signing_keys.forget(org_id, domain);
        tracing::info!(%org_id, %domain, slot, selector = %new.selector, algorithm = %new.algorithm, signs_from, "DKIM key replaced");
        Ok(DkimRotation {
            domain: domain.to_string(),
            selector: new.selector,
            signs_from: rfc3339(signs_from),
        })
    }

    /// Rotates the keys of domains whose newest key is older than
    /// `dkim.rotate_after` (a few per call); how many it rotated.
    pub(crate) async fn rotate_due_keys(&self) -> Result<u64, ServiceError> {
        let rotate_after = self.app.inner.settings.dkim.rotate_after;
        let before = self.app.now_ms() - rotate_after.as_millis() as i64;
        let due = self
            .app
            .inner
            .store
            .domains_due_for_rotation(before, ROTATIONS_PER_SWEEP)
            .await?;
        let mut rotated = 0;
        for (org_id, domain) in due {
            match self.rotate_domain(&org_id, &domain).await {
                Ok(_) => rotated += 1,
                // Its turn comes again at the next sweep.
                Err(ServiceError::Conflict { code, .. }) => {
                    tracing::debug!(%org_id, %domain, code, "DKIM rotation waits");
                }
                // One domain's failure stops no other's rotation.
                Err(e) => tracing::warn!(%org_id, %domain, error = %e, "DKIM rotation failed"),
            }
        }
        Ok(rotated)
    }
}
