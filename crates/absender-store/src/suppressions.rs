//! Each organization's suppression list.

use crate::{Store, StoreError, SuppressionRow};

macro_rules! columns {
    () => {
        "org_id, address, reason, detail, message_id, created_at"
    };
}
const UPSERT: &str = "INSERT INTO suppressions (org_id, address, reason, detail, message_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, address) DO UPDATE SET reason = excluded.reason, \
     detail = excluded.detail, message_id = excluded.message_id, created_at = excluded.created_at";
// An unsubscribe does not replace a complaint: that is the stronger reason.
const UPSERT_UNLESS_COMPLAINT: &str = "INSERT INTO suppressions (org_id, address, reason, detail, message_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, address) DO UPDATE SET reason = excluded.reason, \
     detail = excluded.detail, message_id = excluded.message_id, created_at = excluded.created_at \
     WHERE suppressions.reason <> 'complaint'";
const DELETE: &str = "DELETE FROM suppressions WHERE org_id = $1 AND address = $2";

impl Store {
    /// Adds or replaces a suppression.
    pub async fn upsert_suppression(&self, row: &SuppressionRow) -> Result<(), StoreError> {
        sqlx::query(UPSERT)
            .bind(&row.org_id)
            .bind(&row.address)
            .bind(&row.reason)
            .bind(row.detail.as_deref())
            .bind(row.message_id.as_deref())
            .bind(row.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Adds or replaces a suppression (not one for a complaint) and writes
    /// `event` (for whoever wants it) in the same transaction.
    pub async fn suppress_with_event(
        &self,
        row: &SuppressionRow,
        event: Option<&crate::NewWebhookEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(UPSERT_UNLESS_COMPLAINT)
            .bind(&row.org_id)
            .bind(&row.address)
            .bind(&row.reason)
            .bind(row.detail.as_deref())
            .bind(row.message_id.as_deref())
            .bind(row.created_at)
            .execute(&mut *tx)
            .await?;
        if let Some(event) = event {
            crate::webhooks::insert_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a suppression; false if there was none.
    pub async fn delete_suppression(
        &self,
        org_id: &str,
        address: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE)
            .bind(org_id)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The organization's suppressions, newest first, after the address `after` when paging.
    pub async fn list_suppressions(
        &self,
        org_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SuppressionRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM suppressions WHERE org_id = $1 AND address > $2 ORDER BY address LIMIT $3"
        ))
        .bind(org_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Which of `addresses` the organization suppresses.
    pub async fn suppressed_among(
        &self,
        org_id: &str,
        addresses: &[String],
    ) -> Result<Vec<SuppressionRow>, StoreError> {
        let mut found = Vec::new();
        // One indexed lookup each: recipient lists are short (at most the message limit).
        for address in addresses {
            let row: Option<SuppressionRow> = sqlx::query_as(concat!(
                "SELECT ",
                columns!(),
                " FROM suppressions WHERE org_id = $1 AND address = $2"
            ))
            .bind(org_id)
            .bind(address)
            .fetch_optional(&self.pool)
            .await?;
            found.extend(row);
        }
        Ok(found)
    }
}
