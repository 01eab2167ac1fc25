//! Verification tokens, kept only as hashes.

use crate::{Store, StoreError, TokenRow};

const SUPERSEDE: &str =
    "UPDATE verification_tokens SET superseded = 1 WHERE identity_id = $1 AND used_at IS NULL";
const INSERT: &str = "INSERT INTO verification_tokens (token_hash, identity_id, created_at, expires_at, used_at, superseded) \
     VALUES ($1, $2, $3, $4, NULL, 0)";
const GET: &str = "SELECT token_hash, identity_id, created_at, expires_at, used_at, superseded \
     FROM verification_tokens WHERE token_hash = $1";
const USE: &str = "UPDATE verification_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND superseded = 0 AND expires_at > $2";
const SEND_TIMES: &str = "SELECT created_at FROM verification_tokens WHERE identity_id = $1 AND created_at > $2 ORDER BY created_at";

impl Store {
    /// Stores a new token for the identity; earlier unused tokens stop working.
    pub async fn insert_token(
        &self,
        token_hash: &str,
        identity_id: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(SUPERSEDE)
            .bind(identity_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT)
            .bind(token_hash)
            .bind(identity_id)
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The token with this hash.
    pub async fn token(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Marks the token used if it still may be; false when another request won
    /// the race or it expired meanwhile. This is what makes links single use.
    pub async fn use_token(&self, token_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(USE)
            .bind(token_hash)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When tokens were sent for the identity after `since_ms`, for rate limiting.
    pub async fn token_send_times(
        &self,
        identity_id: &str,
        since_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(SEND_TIMES)
            .bind(identity_id)
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?)
    }
}
