//! Messages sent by organizations.

use crate::{MessageRow, Store, StoreError};

const GET: &str = "SELECT id, org_id, category, from_address, identity_id, fallback_reason, reply_to, envelope_from, \
     recipients, subject, status, created_at FROM messages WHERE org_id = $1 AND id = $2";
const GET_UNSCOPED: &str = "SELECT id, org_id, category, from_address, identity_id, fallback_reason, reply_to, envelope_from, \
     recipients, subject, status, created_at FROM messages WHERE id = $1";

impl Store {
    /// One message whatever its organization: for flows that start from the
    /// message id absender itself put in a return path (bounce reports).
    pub async fn message_unscoped(&self, id: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(sqlx::query_as(GET_UNSCOPED)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// One message of the organization.
    pub async fn message(&self, org_id: &str, id: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(sqlx::query_as(GET)
            .bind(org_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// When the organization's oldest message since `since_ms` was accepted.
    pub async fn oldest_message_since(
        &self,
        org_id: &str,
        since_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(created_at) FROM messages WHERE org_id = $1 AND created_at >= $2 AND category <> 'system'",
        )
        .bind(org_id)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?)
    }

    /// How many recipients the organization's messages since `since_ms`
    /// had (SES counts each recipient as one email); absender's own notices
    /// on its behalf do not count.
    pub async fn count_recipients_since(
        &self,
        org_id: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        // `recipients` is a comma-separated list: one more than its commas.
        let (count,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(LENGTH(recipients) - LENGTH(REPLACE(recipients, ',', '')) + 1), 0) AS BIGINT) \
             FROM messages WHERE org_id = $1 AND created_at >= $2 AND category <> 'system'",
        )
        .bind(org_id)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }
}
