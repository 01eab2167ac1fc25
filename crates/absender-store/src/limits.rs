//! What the abuse limits count: times of events by kind and subject.

use crate::{Store, StoreError};

impl Store {
    /// Notes that `kind` happened for `subject` at `at_ms`.
    pub async fn record_limit_event(
        &self,
        kind: &str,
        subject: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO limit_events (kind, subject, at) VALUES ($1, $2, $3)")
            .bind(kind)
            .bind(subject)
            .bind(at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When `kind` happened for `subject` since `since_ms`.
    pub async fn limit_events_since(
        &self,
        kind: &str,
        subject: &str,
        since_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT at FROM limit_events WHERE kind = $1 AND subject = $2 AND at >= $3",
        )
        .bind(kind)
        .bind(subject)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(at,)| at).collect())
    }

    /// Forgets events older than `before_ms`; how many went.
    pub async fn sweep_limit_events(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM limit_events WHERE at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// How many identities the organization has.
    pub async fn count_identities(&self, org_id: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM identities WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
