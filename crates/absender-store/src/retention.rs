//! Deleting what is past its retention, a small batch per statement so that
//! no sweep holds the database for long.

use crate::{Store, StoreError};

const OUTBOX: &str = "DELETE FROM outbox WHERE id IN (\
     SELECT id FROM outbox WHERE created_at < $1 AND redacted = $2 LIMIT $3)";
const EVENTS: &str = "DELETE FROM identity_events WHERE id IN (\
     SELECT id FROM identity_events WHERE created_at < $1 LIMIT $2)";
// Finished: no recipient waits any more.
const FINISHED_MESSAGES: &str = "SELECT id FROM messages m WHERE created_at < $1 AND NOT EXISTS (\
     SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status = 'queued') LIMIT $2";

/// `$first, $first+1, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Deletes up to `limit` outbox copies created before `before_ms`:
    /// redacted copies (relay and MX mode) or captured mail.
    pub async fn delete_old_outbox(
        &self,
        before_ms: i64,
        redacted: bool,
        limit: i64,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(OUTBOX)
            .bind(before_ms)
            .bind(i64::from(redacted))
            .bind(limit)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Deletes up to `limit` identity events created before `before_ms`.
    pub async fn delete_old_events(&self, before_ms: i64, limit: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(EVENTS)
            .bind(before_ms)
            .bind(limit)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Deletes up to `limit` finished messages created before `before_ms`,
    /// with their deliveries; how many messages went.
    pub async fn delete_finished_messages(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<(String,)> = sqlx::query_as(FINISHED_MESSAGES)
            .bind(before_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let list = placeholders(1, ids.len());
        for table in [
            format!("DELETE FROM deliveries WHERE message_id IN ({list})"),
            format!("DELETE FROM messages WHERE id IN ({list})"),
        ] {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(table));
            for (id,) in &ids {
                query = query.bind(id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}
