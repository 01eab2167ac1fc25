//! Key-value settings that absender keeps about itself (e.g. the admin key's hash).

use crate::{Store, StoreError};

const GET: &str = "SELECT value FROM settings WHERE key = $1";
const INSERT_IF_ABSENT: &str =
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

impl Store {
    /// Reads a setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(GET)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores a setting unless one exists; returns whether this call stored it,
    /// so that of several nodes starting at once exactly one wins.
    pub async fn insert_setting_if_absent(
        &self,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(INSERT_IF_ABSENT)
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
