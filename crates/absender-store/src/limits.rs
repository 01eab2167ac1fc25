//! What the abuse limits count: times of events by kind and subject.

use crate::{Backend, Store, StoreError};

// One statement takes a token or takes none, so nodes taking at once never
// both get the last one. The bucket fills at $2 a second up to $3; a node
// whose clock is behind refills nothing and moves `at` back (a node ahead
// then refills that much more: bounded by the skew, and nobody is blocked).
const TAKE_TOKEN_POSTGRES: &str = "INSERT INTO send_rate_buckets (org_id, tokens, at) VALUES ($1, $3 - 1, $4) \
     ON CONFLICT (org_id) DO UPDATE SET \
     tokens = LEAST($3, send_rate_buckets.tokens + GREATEST(0, $4 - send_rate_buckets.at) * $2 / 1000) - 1, \
     at = $4 \
     WHERE LEAST($3, send_rate_buckets.tokens + GREATEST(0, $4 - send_rate_buckets.at) * $2 / 1000) >= 1 \
     RETURNING tokens";
const TAKE_TOKEN_SQLITE: &str = "INSERT INTO send_rate_buckets (org_id, tokens, at) VALUES ($1, $3 - 1, $4) \
     ON CONFLICT (org_id) DO UPDATE SET \
     tokens = MIN($3, send_rate_buckets.tokens + MAX(0, $4 - send_rate_buckets.at) * $2 / 1000.0) - 1, \
     at = $4 \
     WHERE MIN($3, send_rate_buckets.tokens + MAX(0, $4 - send_rate_buckets.at) * $2 / 1000.0) >= 1 \
     RETURNING tokens";
const BUCKET: &str = "SELECT tokens, at FROM send_rate_buckets WHERE org_id = $1";

impl Store {
    /// Takes a token from `org_id`'s send-rate bucket (`rate` a second, at
    /// most `burst` saved up) at `now_ms`: `None` when taken, else the
    /// bucket as it stands (tokens, when), to tell the wait.
    pub async fn take_send_token(
        &self,
        org_id: &str,
        rate: f64,
        burst: f64,
        now_ms: i64,
    ) -> Result<Option<(f64, i64)>, StoreError> {
        let take = match self.backend {
            Backend::Sqlite => TAKE_TOKEN_SQLITE,
            Backend::Postgres => TAKE_TOKEN_POSTGRES,
        };
        let taken: Option<(f64,)> = sqlx::query_as(take)
            .bind(org_id)
            .bind(rate)
            .bind(burst)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Ok(None);
        }
        Ok(sqlx::query_as(BUCKET)
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await?
            .or(Some((0.0, now_ms))))
    }

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
