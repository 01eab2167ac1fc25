//! The platform's own DKIM keys.

use crate::{PlatformKeyRow, Store, StoreError};

const COLUMNS: &str = "selector, domain, algorithm, private_key_enc, public_key, created_at";
const FOR_DOMAIN: &str = "SELECT selector, domain, algorithm, private_key_enc, public_key, created_at \
     FROM platform_keys WHERE domain = $1 ORDER BY created_at DESC, selector";
const BY_SELECTOR: &str = "SELECT selector, domain, algorithm, private_key_enc, public_key, created_at \
     FROM platform_keys WHERE selector = $1";
const INSERT: &str = "INSERT INTO platform_keys (selector, domain, algorithm, private_key_enc, public_key, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

impl Store {
    /// The platform's keys for `domain`, newest (the signing one) first.
    pub async fn platform_keys(&self, domain: &str) -> Result<Vec<PlatformKeyRow>, StoreError> {
        debug_assert!(FOR_DOMAIN.contains(COLUMNS));
        Ok(sqlx::query_as(FOR_DOMAIN)
            .bind(domain)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The platform key published under `selector`, for the DNS server.
    pub async fn platform_key_by_selector(
        &self,
        selector: &str,
    ) -> Result<Option<PlatformKeyRow>, StoreError> {
        Ok(sqlx::query_as(BY_SELECTOR)
            .bind(selector)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores `key` as the domain's first platform key, unless a key was
    /// made first already; whether this call's key is the one. Nodes that
    /// start at once each make a key: one wins the claim (a setting, written
    /// in the same transaction as the key), the others drop theirs. A loser
    /// waits on PostgreSQL until the winner commits, so the key is there.
    pub async fn insert_first_platform_key(
        &self,
        key: &PlatformKeyRow,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(format!("platform_key_first:{}", key.domain))
        .bind(&key.selector)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            return Ok(false);
        }
        insert(key).execute(&mut *tx).await?;
        tx.commit().await?;
        self.dns_changed();
        Ok(true)
    }

    /// Stores a new platform key; it signs from now on.
    pub async fn insert_platform_key(&self, key: &PlatformKeyRow) -> Result<(), StoreError> {
        insert(key).execute(&self.pool).await?;
        self.dns_changed();
        Ok(())
    }
}

/// The statement that stores `key`.
fn insert(key: &PlatformKeyRow) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(INSERT)
        .bind(&key.selector)
        .bind(&key.domain)
        .bind(&key.algorithm)
        .bind(&key.private_key_enc)
        .bind(&key.public_key)
        .bind(key.created_at)
}
