//! The capture outbox: final messages that were kept instead of delivered.

use crate::{OutboxRow, OutboxSummaryRow, Store, StoreError};

const INSERT: &str = "INSERT INTO outbox (id, org_id, category, mail_from, rcpt_to, subject, raw, created_at, operator_only, redacted) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
// Listings leave the message bytes in the database; only their size is needed.
const LIST_ALL: &str = "SELECT id, org_id, category, mail_from, rcpt_to, subject, CAST(LENGTH(raw) AS BIGINT) AS size_bytes, created_at \
     FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1";
const LIST_ORG: &str = "SELECT id, org_id, category, mail_from, rcpt_to, subject, CAST(LENGTH(raw) AS BIGINT) AS size_bytes, created_at \
     FROM outbox WHERE org_id = $1 AND operator_only = 0 ORDER BY created_at DESC, id DESC LIMIT $2";
const GET: &str = "SELECT id, org_id, category, mail_from, rcpt_to, subject, raw, created_at, operator_only, redacted \
     FROM outbox WHERE id = $1";
// An organization reads only its own rows without a live secret: filtered in SQL, never loaded.
const GET_ORG: &str = "SELECT id, org_id, category, mail_from, rcpt_to, subject, raw, created_at, operator_only, redacted \
     FROM outbox WHERE id = $1 AND org_id = $2 AND operator_only = 0";

/// The statement that keeps `row`, for the pool or a transaction (the queue's intake).
pub(crate) fn insert_query(
    row: &OutboxRow,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(INSERT)
        .bind(&row.id)
        .bind(row.org_id.as_deref())
        .bind(&row.category)
        .bind(&row.mail_from)
        .bind(&row.rcpt_to)
        .bind(&row.subject)
        .bind(&row.raw)
        .bind(row.created_at)
        .bind(i64::from(row.operator_only))
        .bind(i64::from(row.redacted))
}

impl Store {
    /// Keeps a message.
    pub async fn insert_outbox(&self, row: &OutboxRow) -> Result<(), StoreError> {
        insert_query(row).execute(&self.pool).await?;
        Ok(())
    }

    /// The newest messages: all of them, or those an organization may see.
    pub async fn list_outbox(
        &self,
        org_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxSummaryRow>, StoreError> {
        let rows = match org_id {
            Some(org) => {
                sqlx::query_as(LIST_ORG)
                    .bind(org)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as(LIST_ALL)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows)
    }

    /// One message, if `org_id` (when given) owns it and may see it.
    pub async fn outbox_message(
        &self,
        id: &str,
        org_id: Option<&str>,
    ) -> Result<Option<OutboxRow>, StoreError> {
        let query = match org_id {
            Some(org) => sqlx::query_as(GET_ORG).bind(id).bind(org),
            None => sqlx::query_as(GET).bind(id),
        };
        Ok(query.fetch_optional(&self.pool).await?)
    }
}
