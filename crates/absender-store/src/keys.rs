//! DKIM key pairs per (organization, domain), private keys only encrypted.

use crate::{DkimKeyRow, Store, StoreError};

const INSERT: &str = "INSERT INTO dkim_keys (id, org_id, domain, slot, selector, algorithm, private_key_enc, public_key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, domain, slot) DO NOTHING";
const FOR_DOMAIN: &str = "SELECT id, org_id, domain, slot, selector, algorithm, private_key_enc, public_key, created_at \
     FROM dkim_keys WHERE org_id = $1 AND domain = $2 ORDER BY slot";
const BY_SELECTOR: &str = "SELECT id, org_id, domain, slot, selector, algorithm, private_key_enc, public_key, created_at \
     FROM dkim_keys WHERE selector = $1";
const DELETE_FOR_DOMAIN: &str = "DELETE FROM dkim_keys WHERE org_id = $1 AND domain = $2";

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
    pub async fn dkim_key_by_selector(
        &self,
        selector: &str,
    ) -> Result<Option<DkimKeyRow>, StoreError> {
        Ok(sqlx::query_as(BY_SELECTOR)
            .bind(selector)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Withdraws the organization's keys for `domain`; how many went.
    pub async fn delete_dkim_keys(&self, org_id: &str, domain: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(DELETE_FOR_DOMAIN)
            .bind(org_id)
            .bind(domain)
            .execute(&self.pool)
            .await?;
        self.dns_changed();
        Ok(done.rows_affected())
    }
}
