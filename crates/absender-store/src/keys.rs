//! DKIM key pairs per (organization, domain), private keys only encrypted.

use crate::{DkimKeyRow, Store, StoreError};

const INSERT: &str = "INSERT INTO dkim_keys (id, org_id, domain, slot, selector, algorithm, private_key_enc, public_key, created_at, signs_from) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (org_id, domain, slot) DO NOTHING";
const FOR_DOMAIN: &str = "SELECT id, org_id, domain, slot, selector, algorithm, private_key_enc, public_key, created_at, signs_from \
     FROM dkim_keys WHERE org_id = $1 AND domain = $2 ORDER BY slot";
const BY_SELECTOR: &str = "SELECT id, org_id, domain, slot, selector, algorithm, private_key_enc, public_key, created_at, signs_from \
     FROM dkim_keys WHERE selector = $1";
// A slot's new key, only if the slot still holds the key the rotation read
// and no other rotation of the domain waits for its turn.
const REPLACE: &str = "UPDATE dkim_keys SET id = $4, algorithm = $5, private_key_enc = $6, public_key = $7, created_at = $8, signs_from = $9 \
     WHERE org_id = $1 AND domain = $2 AND id = $3 AND NOT EXISTS (\
     SELECT 1 FROM dkim_keys k WHERE k.org_id = $1 AND k.domain = $2 AND k.signs_from > $8)";
// The oldest mail of the organization from the domain that still waits to go.
const OLDEST_QUEUED: &str = "SELECT MIN(m.created_at) FROM deliveries d JOIN messages m ON m.id = d.message_id \
     WHERE d.status = 'queued' AND m.org_id = $1 AND LOWER(m.from_address) LIKE '%@' || $2";
// RSA keys only: an Ed25519 key beside them does not postpone their rotation.
const DUE_FOR_ROTATION: &str = "SELECT org_id, domain FROM dkim_keys WHERE retired_at = 0 AND algorithm <> 'ed25519-sha256' \
     GROUP BY org_id, domain HAVING MAX(created_at) < $1 ORDER BY MAX(created_at) LIMIT $2";
const RETIRE_FOR_DOMAIN: &str =
    "UPDATE dkim_keys SET retired_at = $3 WHERE org_id = $1 AND domain = $2 AND retired_at = 0";
const REVIVE_FOR_DOMAIN: &str =
    "UPDATE dkim_keys SET retired_at = 0 WHERE org_id = $1 AND domain = $2 AND retired_at > 0";
// A retired key goes once no queued mail of its organization from its domain
// is left (mail already accepted must still verify), or after `max age`.
const DELETE_RETIRED: &str = "DELETE FROM dkim_keys WHERE retired_at > 0 AND (retired_at < $1 OR NOT EXISTS (\
     SELECT 1 FROM deliveries d JOIN messages m ON m.id = d.message_id \
     WHERE d.status = 'queued' AND m.org_id = dkim_keys.org_id \
     AND LOWER(m.from_address) LIKE '%@' || dkim_keys.domain))";

impl Store {
    /// Stores keys for slots that have none yet; a slot already taken (by a
    /// concurrent request for the same domain) keeps its key. Returns the keys now stored.
    pub async fn insert_dkim_keys_if_absent(&self, keys: &[DkimKeyRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for key in keys {
            sqlx::query(INSERT)
                .bind(&key.id)
                .bind(&key.org_id)
                .bind(&key.domain)
                .bind(key.slot)
                .bind(&key.selector)
                .bind(&key.algorithm)
                .bind(&key.private_key_enc)
                .bind(&key.public_key)
                .bind(key.created_at)
                .bind(key.signs_from)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.dns_changed();
        Ok(())
    }

    /// The organization's keys for `domain`, by slot.
    pub async fn dkim_keys(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<Vec<DkimKeyRow>, StoreError> {
        Ok(sqlx::query_as(FOR_DOMAIN)
            .bind(org_id)
            .bind(domain)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The key published under `selector`, for the DNS server.
    /// Every selector published in the key zone: customers' and the platform's.
    pub async fn dkim_selectors(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT selector FROM dkim_keys UNION SELECT selector FROM platform_keys",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn dkim_key_by_selector(
        &self,
        selector: &str,
    ) -> Result<Option<DkimKeyRow>, StoreError> {
        Ok(sqlx::query_as(BY_SELECTOR)
            .bind(selector)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Retires the organization's keys for `domain` at `now_ms`: they stay
    /// published until [`Self::delete_retired_dkim_keys`]; how many.
    pub async fn retire_dkim_keys(
        &self,
        org_id: &str,
        domain: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(RETIRE_FOR_DOMAIN)
            .bind(org_id)
            .bind(domain)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Takes retired keys of `domain` back into use (the domain is requested again).
    pub async fn revive_dkim_keys(&self, org_id: &str, domain: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(REVIVE_FOR_DOMAIN)
            .bind(org_id)
            .bind(domain)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Withdraws retired keys that no queued mail needs, or that were
    /// retired before `retired_before_ms`; how many went.
    pub async fn delete_retired_dkim_keys(
        &self,
        retired_before_ms: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(DELETE_RETIRED)
            .bind(retired_before_ms)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() > 0 {
            self.dns_changed();
        }
        Ok(done.rows_affected())
    }

    /// Puts `new` into its slot in place of the key `old_id`, unless the slot
    /// holds another key by now or another new key of the domain waits for
    /// its turn; whether it did.
    pub async fn replace_dkim_key(
        &self,
        old_id: &str,
        new: &DkimKeyRow,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(REPLACE)
            .bind(&new.org_id)
            .bind(&new.domain)
            .bind(old_id)
            .bind(&new.id)
            .bind(&new.algorithm)
            .bind(&new.private_key_enc)
            .bind(&new.public_key)
            .bind(new.created_at)
            .bind(new.signs_from)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 1 {
            self.dns_changed();
        }
        Ok(done.rows_affected() == 1)
    }

    /// When the oldest mail of the organization from `domain` that still
    /// waits to go was accepted.
    pub async fn oldest_queued_from_domain(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(OLDEST_QUEUED)
            .bind(org_id)
            .bind(domain)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Up to `limit` (organization, domain) pairs whose newest key was made
    /// before `created_before_ms`, the longest unrotated first.
    pub async fn domains_due_for_rotation(
        &self,
        created_before_ms: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(DUE_FOR_ROTATION)
            .bind(created_before_ms)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}
