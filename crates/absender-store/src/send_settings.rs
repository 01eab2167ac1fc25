//! Send settings: the identity an organization chose per mail category.

use crate::{Store, StoreError};

const GET: &str =
    "SELECT category, identity_id FROM send_settings WHERE org_id = $1 ORDER BY category";
const CLEAR: &str = "DELETE FROM send_settings WHERE org_id = $1";
const INSERT: &str =
    "INSERT INTO send_settings (org_id, category, identity_id, updated_at) VALUES ($1, $2, $3, $4)";

impl Store {
    /// The organization's choices as (category, identity id).
    pub async fn send_settings(&self, org_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Replaces all of the organization's choices at once.
    pub async fn replace_send_settings(
        &self,
        org_id: &str,
        choices: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(CLEAR).bind(org_id).execute(&mut *tx).await?;
        for (category, identity_id) in choices {
            sqlx::query(INSERT)
                .bind(org_id)
                .bind(category)
                .bind(identity_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
